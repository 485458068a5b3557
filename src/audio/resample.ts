/**
 * A streaming band-limited resampler for one channel at a fixed rational ratio (44.1 → 48 kHz is
 * 147 → 160). Each output sample is a windowed-sinc interpolation of the input around its exact
 * position, using one of `up` precomputed filter phases, so pitch is kept and images above the
 * lower Nyquist are filtered out.
 *
 * Written here rather than taken from a package: the ratio is fixed, the input arrives in chunks of
 * any size, and the whole job is a short polyphase loop; the WASM resamplers on npm need the whole
 * signal or an async worker.
 */
export class Resampler {
  private readonly up: number;
  private readonly down: number;
  /** `phases[p][j]`: the weight of input sample `base - halfTaps + 1 + j` for output phase `p`. */
  private readonly phases: Float32Array[];
  private readonly taps: number;
  /** Input not yet fully used: the last `taps` samples of history plus anything newer. */
  private history: Float32Array;
  /** Position of the next output sample, in units of 1/up input samples, relative to `history[0]`. */
  private position: number;

  constructor(fromRate: number, toRate: number, halfTaps = 16) {
    const divisor = gcd(fromRate, toRate);
    this.up = toRate / divisor;
    this.down = fromRate / divisor;
    this.taps = halfTaps * 2;
    // Cut off just below the lower of the two Nyquist frequencies.
    const cutoff = 0.95 * Math.min(1, toRate / fromRate);
    this.phases = [];
    for (let p = 0; p < this.up; p++) {
      const fraction = p / this.up;
      const weights = new Float32Array(this.taps);
      for (let j = 0; j < this.taps; j++) {
        const x = j - halfTaps + 1 - fraction;
        weights[j] = cutoff * sinc(cutoff * x) * blackman(x / halfTaps);
      }
      this.phases.push(weights);
    }
    // Silence before the first sample, so the first output lines up with the first input.
    this.history = new Float32Array(halfTaps - 1);
    this.position = 0;
  }

  /** Resamples the next chunk; keeps what the following chunk still needs. */
  process(input: Float32Array): Float32Array {
    const data = new Float32Array(this.history.length + input.length);
    data.set(this.history);
    data.set(input, this.history.length);
    const usable = data.length - this.taps + 1;
    const count = Math.max(0, Math.ceil((usable * this.up - this.position) / this.down));
    const out = new Float32Array(count);
    let position = this.position;
    for (let n = 0; n < count; n++) {
      const base = Math.floor(position / this.up);
      const weights = this.phases[position % this.up];
      if (weights === undefined) throw new Error('resampler phase out of range');
      let sum = 0;
      for (let j = 0; j < this.taps; j++) sum += (data[base + j] ?? 0) * (weights[j] ?? 0);
      out[n] = sum;
      position += this.down;
    }
    const consumed = Math.floor(position / this.up);
    this.history = data.slice(consumed);
    this.position = position - consumed * this.up;
    return out;
  }
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over [-1, 1]. */
function blackman(t: number): number {
  if (Math.abs(t) >= 1) return 0;
  const a = Math.PI * (t + 1);
  return 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
