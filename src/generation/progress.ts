import type { Clock } from './ports.js';

/** Progress edits of one reply, as a job's steps ask for them. */
export interface ProgressSink {
  /** Asks for the reply to show the job's current state soon. */
  request(): void;
  /** No more progress edits; resolves when one in flight has landed. */
  settle(): Promise<void>;
}

export interface ProgressThrottleOptions {
  /**
   * Where the time of the last edit is kept. A queue job's steps run on any worker, one after
   * another, so it travels in the job's data; by default the throttle keeps its own.
   */
  memory?: { lastEditAt?: number };
  /**
   * Whether an edit held back by the interval goes out once the interval has passed (default), or
   * is dropped: a queue step is short, and the next step sends the state then current.
   */
  trailing?: boolean;
  /** Called as an edit is let through, before it is sent (the queue notes what the reply shows). */
  onSend?: () => void;
}

/**
 * Coalesces progress edits of one message: the first goes at once, later ones at most once per
 * `intervalMs`, and always show the latest state. `settle()` cancels what is pending and waits for
 * an edit in flight, so the final edit never races a progress edit. Both queues use it: the
 * in-process one with trailing edits, the Redis worker with the time of the last edit in the job.
 */
export class ProgressThrottle implements ProgressSink {
  private readonly memory: { lastEditAt?: number };
  private readonly trailing: boolean;
  private cancelTimer: (() => void) | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly options: ProgressThrottleOptions = {},
  ) {
    this.memory = options.memory ?? {};
    this.trailing = options.trailing ?? true;
  }

  request(): void {
    if (this.closed || this.cancelTimer) return;
    const wait = (this.memory.lastEditAt ?? Number.NEGATIVE_INFINITY) + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
    if (!this.trailing) return;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.fire();
    }, wait);
  }

  /** No more progress edits: drop the pending one and wait for one already sent. */
  async settle(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.inFlight;
  }

  private fire(): void {
    if (this.closed) return;
    this.memory.lastEditAt = this.clock.now();
    this.options.onSend?.();
    // Edits go out one after another, so an older state can never land after a newer one.
    this.inFlight = this.inFlight.then(() => this.send());
  }
}

/** For a job that ends without showing progress first. */
export const noProgress: ProgressSink = { request: () => undefined, settle: () => Promise.resolve() };

/**
 * Near the front every step of the line is news; far back, an edit every ten places is enough.
 * With thousands waiting, that is the difference between a few edits a second and thousands.
 */
export function worthAnEdit(shown: number | undefined, position: number): boolean {
  return shown === undefined || position <= 20 || Math.floor(position / 10) !== Math.floor(shown / 10);
}
