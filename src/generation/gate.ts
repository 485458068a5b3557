/**
 * Per-server admission: at most `limitFor(key)` jobs of one server run at once; the rest wait in
 * line, first come first served, and hear their place in line whenever it changes.
 */
export interface GateTicket {
  /** Resolves when the job may run. */
  readonly admitted: Promise<void>;
  /** Gives the slot back (or leaves the line); safe to call twice. */
  release(): void;
}

export type PositionListener = (position: number) => void;

interface Waiter {
  admit: () => void;
  onPosition: PositionListener | undefined;
  lastPosition: number;
}

export class ConcurrencyGate {
  private readonly running = new Map<string, number>();
  private readonly lines = new Map<string, Waiter[]>();

  constructor(private readonly limitFor: (key: string) => number) {}

  /** Jobs of `key` running now. */
  active(key: string): number {
    return this.running.get(key) ?? 0;
  }

  /** Jobs of `key` waiting for a slot. */
  waiting(key: string): number {
    return this.lines.get(key)?.length ?? 0;
  }

  enter(key: string, onPosition?: PositionListener): GateTicket {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => {
      admit = () => {
        state = 'running';
        this.running.set(key, this.active(key) + 1);
        resolve();
      };
    });
    const line = this.lines.get(key) ?? [];
    const waiter: Waiter = { admit, onPosition, lastPosition: 0 };

    if (line.length === 0 && this.active(key) < this.limitFor(key)) {
      admit();
    } else {
      line.push(waiter);
      this.lines.set(key, line);
      this.announce(key);
    }

    return {
      admitted,
      release: () => {
        if (state === 'done') return;
        if (state === 'running') {
          this.running.set(key, Math.max(0, this.active(key) - 1));
        } else {
          const current = this.lines.get(key) ?? [];
          this.lines.set(
            key,
            current.filter((w) => w !== waiter),
          );
        }
        state = 'done';
        this.pump(key);
      },
    };
  }

  /** Lets every waiting job through at once (shutdown: each then sees that the bot is stopping). */
  close(): void {
    for (const line of this.lines.values()) for (const waiter of line.splice(0)) waiter.admit();
    this.lines.clear();
  }

  private pump(key: string): void {
    const line = this.lines.get(key) ?? [];
    while (line.length > 0 && this.active(key) < this.limitFor(key)) line.shift()?.admit();
    if (line.length === 0) this.lines.delete(key);
    else this.announce(key);
    if (this.active(key) === 0) this.running.delete(key);
  }

  private announce(key: string): void {
    (this.lines.get(key) ?? []).forEach((waiter, index) => {
      const position = index + 1;
      if (waiter.lastPosition === position) return;
      waiter.lastPosition = position;
      waiter.onPosition?.(position);
    });
  }
}
