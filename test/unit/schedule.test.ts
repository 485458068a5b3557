import { describe, expect, it } from 'vitest';
import type { DurationWindow } from '../../src/generation/durations.js';
import { defaultSchedule, nextPollDelay, planChecks } from '../../src/generation/schedule.js';

describe('nextPollDelay before anything is learned', () => {
  it('checks often early on and stretches the gap as the job runs long', () => {
    const at = (elapsedMs: number) => nextPollDelay({ elapsedMs, consecutiveFailures: 0 }, defaultSchedule);
    expect(at(2_000)).toBe(1_000);
    expect(at(20_000)).toBe(3_000);
    expect(at(40_000)).toBe(6_000);
    expect(at(300_000)).toBe(8_000);
    // Never denser than the floor, never sparser than the reference client's 10 s.
    for (let t = 0; t < 600_000; t += 7_000) {
      expect(at(t)).toBeGreaterThanOrEqual(1_000);
      expect(at(t)).toBeLessThanOrEqual(10_000);
    }
  });

  it('backs off exponentially after failures, with jitter, up to the cap', () => {
    const after = (failures: number, random: number) =>
      nextPollDelay({ elapsedMs: 5_000, consecutiveFailures: failures }, defaultSchedule, random);
    expect(after(1, 0)).toBe(1_000);
    expect(after(1, 0.999)).toBe(1_999);
    expect(after(3, 0)).toBe(4_000);
    expect(after(3, 0.999)).toBe(7_996);
    expect(after(30, 0)).toBe(30_000);
    expect(after(30, 0.999)).toBe(59_970);
    expect(after(2, 0)).toBeLessThan(after(2, 0.5));
  });

  it('waits at least as long as Retry-After says', () => {
    expect(
      nextPollDelay({ elapsedMs: 5_000, consecutiveFailures: 1, retryAfterMs: 12_000 }, defaultSchedule, 0),
    ).toBe(12_000);
  });
});

/**
 * The expected detection lag of a plan, worked out independently of it: the window's density is
 * integrated on a fine grid, and a job finishing at s is seen at the first check at or after s.
 */
function expectedLag(window: DurationWindow, checks: readonly number[]): number {
  const density = window.density ?? [1];
  const total = density.reduce((sum, p) => sum + p, 0);
  const steps = 20_000;
  const width = window.highMs - window.lowMs;
  let lag = 0;
  let mass = 0;
  for (let i = 0; i < steps; i++) {
    const s = window.lowMs + ((i + 0.5) / steps) * width;
    const slice = Math.min(density.length - 1, Math.floor(((s - window.lowMs) / width) * density.length));
    const weight = (density[slice] ?? 0) / total;
    if (weight === 0) continue;
    const seenAt = checks.find((at) => at >= s) ?? Number.POSITIVE_INFINITY;
    lag += weight * (seenAt - s);
    mass += weight;
  }
  return lag / mass;
}

const gaps = (checks: readonly number[]) => checks.slice(1).map((at, i) => at - (checks[i] ?? 0));

/** Sample distributions of the finish time, each over 16 slices of its window. */
const shapes: Record<string, DurationWindow> = {
  even: { lowMs: 20_000, medianMs: 25_000, highMs: 30_000, density: Array<number>(16).fill(1 / 16) },
  peaked: {
    lowMs: 30_000,
    medianMs: 38_000,
    highMs: 46_000,
    density: [1, 2, 4, 8, 12, 16, 20, 22, 20, 16, 12, 8, 4, 2, 1, 1].map((p) => p / 149),
  },
  'long tail': {
    lowMs: 60_000,
    medianMs: 66_000,
    highMs: 100_000,
    density: [30, 24, 18, 13, 10, 8, 6, 5, 4, 3, 3, 2, 2, 1, 1, 1].map((p) => p / 131),
  },
  'two humps': {
    lowMs: 10_000,
    medianMs: 16_000,
    highMs: 24_000,
    density: [2, 8, 14, 8, 2, 0, 0, 0, 0, 0, 2, 8, 14, 8, 2, 0].map((p) => p / 68),
  },
};

describe('planChecks', () => {
  for (const [name, window] of Object.entries(shapes)) {
    it(`meets the target lag on average with fewer checks than one a second (${name})`, () => {
      for (const target of [400, 800, 1_500]) {
        const checks = planChecks(window, target, defaultSchedule.minGapMs);
        expect(expectedLag(window, checks)).toBeLessThanOrEqual(target * 1.03);
        expect(checks.at(-1)).toBeLessThanOrEqual(window.highMs);
        expect(checks.every((at) => at > window.lowMs && at <= window.highMs)).toBe(true);
        expect(gaps(checks).every((gap) => gap >= defaultSchedule.minGapMs)).toBe(true);
        if (target >= 800) expect(checks.length).toBeLessThan((window.highMs - window.lowMs) / 1_000);
      }
    });
  }

  it('spends no more checks than evenly spaced ones that meet the same target', () => {
    for (const window of Object.values(shapes)) {
      const checks = planChecks(window, 800);
      const width = window.highMs - window.lowMs;
      // The fewest evenly spaced checks (the last at the window's end) that meet the target.
      let even = 1;
      const evenly = (count: number) =>
        Array.from({ length: count }, (_, k) => window.lowMs + (width * (k + 1)) / count);
      while (expectedLag(window, evenly(even)) > 800) even++;
      expect(checks.length).toBeLessThanOrEqual(even);
    }
  });

  it('checks an even window evenly, 2 × the target apart', () => {
    const checks = planChecks(shapes.even ?? { lowMs: 0, medianMs: 0, highMs: 0 }, 800);
    // 10 s at 1.6 s a gap: 7 checks.
    expect(checks).toHaveLength(7);
    for (const gap of gaps(checks)) expect(gap).toBeCloseTo(10_000 / 7, -1);
  });

  it('checks more densely where finishing is likelier', () => {
    const window = shapes.peaked ?? { lowMs: 0, medianMs: 0, highMs: 0 };
    const checks = planChecks(window, 800);
    const gapNear = (at: number) => {
      const i = checks.findIndex((check) => check >= at);
      return (checks[i] ?? 0) - (checks[i - 1] ?? window.lowMs);
    };
    expect(gapNear(38_000)).toBeLessThan(gapNear(31_000));
    expect(gapNear(38_000)).toBeLessThan(gapNear(45_000));
    // Nothing planned where no job finishes.
    const humps = shapes['two humps'] ?? { lowMs: 0, medianMs: 0, highMs: 0 };
    const quiet = planChecks(humps, 800).filter((at) => at > 15_500 && at < 16_000 + 0);
    expect(quiet).toEqual([]);
  });

  it('spends more checks for a tighter target, fewer for a looser one', () => {
    const window = shapes['long tail'] ?? { lowMs: 0, medianMs: 0, highMs: 0 };
    const counts = [300, 800, 2_000, 8_000].map((target) => planChecks(window, target).length);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(new Set(counts).size).toBe(counts.length);
    expect(planChecks(window, 100_000)).toEqual([100_000]);
  });
});

describe('nextPollDelay with a learned window', () => {
  const window = shapes.even ?? { lowMs: 0, medianMs: 0, highMs: 0 };
  const plan = planChecks(window, defaultSchedule.targetLagMs, defaultSchedule.minGapMs);
  const at = (elapsedMs: number) =>
    nextPollDelay({ elapsedMs, consecutiveFailures: 0, window }, defaultSchedule, 0);

  it('goes from planned check to planned check, skipping one it is too late for', () => {
    for (const [i, check] of plan.slice(0, -1).entries()) expect(check + at(check)).toBe(plan[i + 1]);
    expect(10_000 + at(10_000)).toBe(plan[0]);
    // Sent late, just before the next planned check: the one after it.
    const second = plan[1] ?? 0;
    expect(second - 100 + at(second - 100)).toBe(plan[2]);
  });

  it('stretches the gaps for a job that outlives its window, up to the longest', () => {
    // 2 × the 500 ms target at first, then half the time past the window on top.
    expect(at(30_000)).toBe(1_000);
    expect(at(34_000)).toBe(3_000);
    expect(at(100_000)).toBe(8_000);
  });

  it('still backs off after failures inside the window', () => {
    expect(nextPollDelay({ elapsedMs: 21_000, consecutiveFailures: 3, window }, defaultSchedule, 0)).toBe(
      4_000,
    );
  });
});
