import type { Clock } from './ports.js';

/**
 * Coalesces progress edits of one message: the first goes at once, later ones at most once per
 * `intervalMs`, and always show the latest state. `settle()` cancels what is pending and waits for
 * an edit in flight, so the final edit never races a progress edit.
 */
export class ProgressThrottle {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  /** Asks for the message to show the current state soon. */
  request(): void {
    if (this.closed || this.cancelTimer) return;
    const wait = this.lastSentAt + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
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
    this.lastSentAt = this.clock.now();
    // Edits go out one after another, so an older state can never land after a newer one.
    this.inFlight = this.inFlight.then(() => this.send());
  }
}

/**
 * Near the front every step of the line is news; far back, an edit every ten places is enough.
 * With thousands waiting, that is the difference between a few edits a second and thousands.
 */
export function worthAnEdit(shown: number | undefined, position: number): boolean {
  return shown === undefined || position <= 20 || Math.floor(position / 10) !== Math.floor(shown / 10);
}
