/**
 * How long generations take, learned from the ones that finished. The provider's time grows with
 * the length of music asked for, with noise, so the model is a straight line through
 * (length, duration) fitted by least squares, and the spread of the finished jobs around it as
 * ratios. From that it predicts the distribution of a new job's finish time: a window and how the
 * chance of finishing is spread across it, which the poll schedule follows (`schedule.ts`).
 *
 * With few jobs seen, the spread they show understates the real one (three jobs rarely include
 * the fastest and the slowest), so each observed ratio is widened into a small band whose width
 * starts at `priorSpread` and narrows as jobs finish: a prior that tightens with evidence.
 */
export interface DurationWindow {
  /** Early edge: few jobs of this length finished sooner. */
  lowMs: number;
  medianMs: number;
  /** Late edge: few jobs of this length took longer. */
  highMs: number;
  /**
   * The chance of finishing in each of equal slices of [lowMs, highMs], in order (summing to about
   * 1 − 2 × tail). Absent: taken as even across the window.
   */
  density?: readonly number[];
}

/** The predicted share of jobs like this one that have finished `elapsedMs` after submission. */
export function finishedShare(window: DurationWindow, elapsedMs: number): number {
  const width = window.highMs - window.lowMs;
  if (elapsedMs <= window.lowMs) return 0;
  if (elapsedMs >= window.highMs || !(width > 0)) return 1;
  const density = window.density !== undefined && window.density.length > 0 ? window.density : [1];
  const total = density.reduce((sum, p) => sum + p, 0);
  if (!(total > 0)) return (elapsedMs - window.lowMs) / width;
  const position = ((elapsedMs - window.lowMs) / width) * density.length;
  const slice = Math.floor(position);
  let below = 0;
  for (let i = 0; i < slice; i++) below += density[i] ?? 0;
  return (below + (density[slice] ?? 0) * (position - slice)) / total;
}

export interface DurationModelOptions {
  /** Finished jobs needed before predicting; until then the fixed schedule applies. */
  minSamples: number;
  /** Only the most recent jobs count, so the model follows the provider when it speeds up or slows down. */
  maxSamples: number;
  /** Share of jobs left outside the window at each end. */
  tail: number;
  /**
   * Half-width, as a ratio of the predicted time, of the band each observed job is widened into
   * when there is one job to learn from; it shrinks as `priorWeight / (priorWeight + jobs)`.
   */
  priorSpread: number;
  /** How many jobs' worth of evidence the prior counts for. */
  priorWeight: number;
  /** Slices of the window the predicted distribution is given in. */
  slices: number;
}

export const defaultDurationModel: DurationModelOptions = {
  minSamples: 3,
  maxSamples: 300,
  tail: 0.02,
  priorSpread: 0.3,
  priorWeight: 10,
  slices: 16,
};

interface Sample {
  lengthSeconds: number;
  durationMs: number;
}

interface Fit {
  intercept: number;
  slope: number;
  /** Window edges and median as ratios of the line's prediction, and the slices' chances. */
  low: number;
  median: number;
  high: number;
  density: number[];
}

export class DurationModel {
  private readonly samples: Sample[] = [];
  private fit: Fit | undefined;
  private readonly options: DurationModelOptions;

  constructor(options: Partial<DurationModelOptions> = {}) {
    this.options = { ...defaultDurationModel, ...options };
  }

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
    return {
      lowMs: base * this.fit.low,
      medianMs: base * this.fit.median,
      highMs: base * this.fit.high,
      density: this.fit.density,
    };
  }

  private refit(): Fit {
    const n = this.samples.length;
    // Weighted by 1/duration², so the line fits relative error: the noise is a share of the time,
    // and plain least squares would let the long jobs pull the intercept far off for the short ones.
    let sw = 0;
    let swx = 0;
    let swy = 0;
    for (const s of this.samples) {
      const w = 1 / s.durationMs ** 2;
      sw += w;
      swx += w * s.lengthSeconds;
      swy += w * s.durationMs;
    }
    const meanX = swx / sw;
    const meanY = swy / sw;
    let sxy = 0;
    let sxx = 0;
    for (const s of this.samples) {
      const w = 1 / s.durationMs ** 2;
      sxy += w * (s.lengthSeconds - meanX) * (s.durationMs - meanY);
      sxx += w * (s.lengthSeconds - meanX) ** 2;
    }
    // All of one length: no slope to learn, the mean is the prediction.
    const slope = sxx === 0 ? 0 : Math.max(0, sxy / sxx);
    const intercept = meanY - slope * meanX;
    const ratios = this.samples.map((s) => s.durationMs / Math.max(1, intercept + slope * s.lengthSeconds));
    const { priorSpread, priorWeight, tail, slices } = this.options;
    const cdf = bandCdf(ratios, (priorSpread * priorWeight) / (priorWeight + n));
    const low = inverse(cdf, tail);
    const high = Math.max(inverse(cdf, 1 - tail), low * 1.000_001);
    const edges = Array.from({ length: slices + 1 }, (_, i) => low + ((high - low) * i) / slices);
    const density = edges.slice(1).map((edge, i) => cdf(edge) - cdf(edges[i] ?? low));
    return { intercept, slope, low, median: inverse(cdf, 0.5), high, density };
  }
}

/**
 * The distribution of the observed ratios, each spread evenly over ±`halfWidth` around itself (a
 * band of zero width is a step). Piecewise linear, so quantiles come out by bisection.
 */
function bandCdf(ratios: readonly number[], halfWidth: number): (x: number) => number {
  const n = ratios.length;
  return (x) => {
    let total = 0;
    for (const r of ratios) {
      if (halfWidth <= 0) total += x >= r ? 1 : 0;
      else total += Math.min(1, Math.max(0, (x - r + halfWidth) / (2 * halfWidth)));
    }
    return total / n;
  };
}

/** The least ratio at which the distribution reaches `q` (kept just inside 0 and 1). */
function inverse(cdf: (x: number) => number, wanted: number): number {
  const q = Math.min(1 - 1e-9, Math.max(1e-9, wanted));
  let lo = 0;
  let hi = 1;
  // Ratios are positive and finite, so the distribution reaches q; the bound is only a backstop.
  while (cdf(hi) < q && hi < 1e9) hi *= 2;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return hi;
}
