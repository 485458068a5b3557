import type { Clock } from './ports.js';

export interface LullOptions {
  clock: Clock;
  /** Quiet means nothing in flight for this long: the next interaction of a burst is usually closer. */
  settleMs: number;
  /** The longest anyone waits for quiet, so a bot that is never idle still gets on with its work. */
  maxWaitMs: number;
}

/**
 * Acknowledgements first. An interaction must be acknowledged within 3 s, and during a burst the
 * acknowledgements share one event loop with the work each accepted request starts (its
 * submission, its first progress edit). That work can wait a moment without anyone noticing; a
 * late acknowledgement cannot. The adapter marks each interaction busy until it is answered, and
 * follow-on work waits for `quiet()`: nothing busy for `settleMs`, or `maxWaitMs` at most. Waiters
 * go in the order they came.
 */
export class Lull {
  private busyCount = 0;
  private lastBusyAt = Number.NEGATIVE_INFINITY;
  private readonly waiters: { deadline: number; resolve: () => void }[] = [];
  private cancelTimer: (() => void) | undefined;
  private armedAt: number | undefined;

  constructor(private readonly options: LullOptions) {}

  /** Marks one acknowledgement in flight; call the returned function once it is out. */
  busy(): () => void {
    this.busyCount++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.busyCount--;
      this.lastBusyAt = this.options.clock.now();
      this.release();
    };
  }

  /** Acknowledgements in flight. */
  get inFlight(): number {
    return this.busyCount;
  }

  /** Resolves once the acknowledgements are out (or after `maxWaitMs`). */
  quiet(): Promise<void> {
    if (this.waiters.length === 0 && this.quietAt() <= this.options.clock.now()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push({ deadline: this.options.clock.now() + this.options.maxWaitMs, resolve });
      this.release();
    });
  }

  /** When it is quiet, as far as known now (infinity while anything is busy). */
  private quietAt(): number {
    return this.busyCount > 0 ? Number.POSITIVE_INFINITY : this.lastBusyAt + this.options.settleMs;
  }

  private release(): void {
    const now = this.options.clock.now();
    const quiet = this.quietAt() <= now;
    while (this.waiters.length > 0 && (quiet || (this.waiters[0]?.deadline ?? 0) <= now)) {
      this.waiters.shift()?.resolve();
    }
    const first = this.waiters[0];
    if (first === undefined) return;
    this.arm(Math.min(first.deadline, this.quietAt()));
  }

  private arm(at: number): void {
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.cancelTimer?.();
    this.armedAt = at;
    this.cancelTimer = this.options.clock.setTimer(
      () => {
        this.armedAt = undefined;
        this.cancelTimer = undefined;
        this.release();
      },
      Math.max(0, at - this.options.clock.now()),
    );
  }
}
