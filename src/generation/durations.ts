/**
 * How long generations take, learned from the ones that finished. The provider's time grows with
 * the length of music asked for, with noise, so the model is a straight line through
 * (length, duration) fitted by least squares, and the spread of the finished jobs around it as
 * ratios. From that it predicts a window in which a new job will most likely finish.
 */
export interface DurationWindow {
  /** Early edge: few jobs of this length finished sooner. */
  lowMs: number;
  medianMs: number;
  /** Late edge: few jobs of this length took longer. */
  highMs: number;
}

export interface DurationModelOptions {
  /** Finished jobs needed before predicting; until then the fixed schedule applies. */
  minSamples: number;
  /** Only the most recent jobs count, so the model follows the provider when it speeds up or slows down. */
  maxSamples: number;
  /** Share of jobs left outside the window at each end. */
  tail: number;
}

export const defaultDurationModel: DurationModelOptions = { minSamples: 10, maxSamples: 300, tail: 0.02 };

interface Sample {
  lengthSeconds: number;
  durationMs: number;
}

export class DurationModel {
  private readonly samples: Sample[] = [];
  private fit: { intercept: number; slope: number; low: number; median: number; high: number } | undefined;

  constructor(private readonly options: DurationModelOptions = defaultDurationModel) {}

  get size(): number {
    return this.samples.length;
  }

  /** How many finished jobs the model keeps. */
  get capacity(): number {
    return this.options.maxSamples;
  }

  add(lengthSeconds: number, durationMs: number): void {
    if (!(durationMs > 0) || !(lengthSeconds > 0)) return;
    this.samples.push({ lengthSeconds, durationMs });
    if (this.samples.length > this.options.maxSamples) this.samples.shift();
    this.fit = undefined;
  }

  predict(lengthSeconds: number): DurationWindow | undefined {
    if (this.samples.length < this.options.minSamples) return undefined;
    this.fit ??= this.refit();
    const base = Math.max(1, this.fit.intercept + this.fit.slope * lengthSeconds);
    return { lowMs: base * this.fit.low, medianMs: base * this.fit.median, highMs: base * this.fit.high };
  }

  private refit() {
    const n = this.samples.length;
    const meanX = this.samples.reduce((sum, s) => sum + s.lengthSeconds, 0) / n;
    const meanY = this.samples.reduce((sum, s) => sum + s.durationMs, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (const s of this.samples) {
      sxy += (s.lengthSeconds - meanX) * (s.durationMs - meanY);
      sxx += (s.lengthSeconds - meanX) ** 2;
    }
    // All of one length: no slope to learn, the mean is the prediction.
    const slope = sxx === 0 ? 0 : Math.max(0, sxy / sxx);
    const intercept = meanY - slope * meanX;
    const ratios = this.samples
      .map((s) => s.durationMs / Math.max(1, intercept + slope * s.lengthSeconds))
      .sort((a, b) => a - b);
    return {
      intercept,
      slope,
      low: quantile(ratios, this.options.tail),
      median: quantile(ratios, 0.5),
      high: quantile(ratios, 1 - this.options.tail),
    };
  }
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = sorted[Math.floor(position)] ?? 1;
  const above = sorted[Math.ceil(position)] ?? below;
  return below + (above - below) * (position - Math.floor(position));
}
