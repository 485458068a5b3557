/**
 * The loudest frequency in a stretch of mono PCM, found with the Goertzel algorithm over a grid of
 * candidate frequencies (cheaper than an FFT when only one band of the spectrum matters).
 */
export function dominantFrequency(
  samples: Float32Array,
  sampleRate: number,
  { fromHz = 60, toHz = 2_000, stepHz = 2 } = {},
): number {
  let best = 0;
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
