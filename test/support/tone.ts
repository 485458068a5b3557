/**
 * The loudest frequency in a stretch of mono PCM, found with the Goertzel algorithm (cheaper than
 * an FFT when only one band of the spectrum matters): first on a 20 ms slice over a 20 Hz grid (a
 * slice that short resolves about 50 Hz, so no tone falls between grid points), then on the whole
 * stretch around the best of those at `stepHz`. The fake voice server runs this on every 200 ms
 * of every stream, so it must stay cheap.
 */
export function dominantFrequency(
  samples: Float32Array,
  sampleRate: number,
  { fromHz = 60, toHz = 2_000, stepHz = 2 } = {},
): number {
  const slice = samples.subarray(0, Math.min(samples.length, Math.round(sampleRate / 50)));
  const coarse = loudest(slice, sampleRate, fromHz, toHz, 20);
  return loudest(samples, sampleRate, Math.max(fromHz, coarse - 40), Math.min(toHz, coarse + 40), stepHz);
}

function loudest(
  samples: Float32Array,
  sampleRate: number,
  fromHz: number,
  toHz: number,
  stepHz: number,
): number {
  let best = fromHz;
  let bestPower = -1;
  for (let hz = fromHz; hz <= toHz; hz += stepHz) {
    const power = goertzel(samples, sampleRate, hz);
    if (power > bestPower) {
      bestPower = power;
      best = hz;
    }
  }
  return best;
}

function goertzel(samples: Float32Array, sampleRate: number, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (const sample of samples) {
    const current = sample + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
}

/** Root-mean-square level, to tell sound from silence. */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length));
}
