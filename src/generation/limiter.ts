/** At most `limit` holders at once; the rest wait first come, first served. */
export class Limiter {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get active(): number {
    return this.held;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.held >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so the count never dips and lets a newcomer jump ahead.
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    }
  }
}
