import { describe, expect, it } from 'vitest';
import { DurationModel, finishedShare } from '../../src/generation/durations.js';
import { defaultSchedule, firstPollDelay, planChecks } from '../../src/generation/schedule.js';

/** A seeded generator, so every run learns from the same jobs. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

/** Jobs of (3 s + 0.2 s per second of music) ± 15%: the shape the real service shows. */
function learnFrom(model: DurationModel, jobs: number, seed = 1): void {
  const random = seeded(seed);
  for (let i = 0; i < jobs; i++) {
    const length = 10 + Math.floor(random() * 291);
    model.add(length, (3_000 + 200 * length) * (0.85 + 0.3 * random()));
  }
}

describe('DurationModel', () => {
  it('predicts nothing until it has seen enough jobs', () => {
    const model = new DurationModel({ minSamples: 3, maxSamples: 10, tail: 0, priorSpread: 0 });
    model.add(30, 9_000);
    model.add(60, 15_000);
    expect(model.predict(45)).toBeUndefined();
    model.add(90, 21_000);
    const window = model.predict(45);
    expect(window?.lowMs).toBeCloseTo(12_000, 0);
    expect(window?.medianMs).toBeCloseTo(12_000, 0);
    expect(window?.highMs).toBeCloseTo(12_000, 0);
  });

  it('predicts from three jobs by default, with a window wider than those three show', () => {
    const model = new DurationModel();
    model.add(30, 9_000);
    model.add(60, 15_000);
    expect(model.predict(45)).toBeUndefined();
    model.add(90, 21_000);
    const window = model.predict(45);
    // The three lie on one line; the prior still allows for ±some.
    expect(window?.medianMs).toBeCloseTo(12_000, -2);
    expect(window?.lowMs).toBeLessThan(12_000 * 0.9);
    expect(window?.highMs).toBeGreaterThan(12_000 * 1.1);
  });

  it('learns time that grows with length, and a window as wide as the noise', () => {
    const model = new DurationModel({ maxSamples: 500 });
    learnFrom(model, 400);
    const window = model.predict(150);
    expect(window?.medianMs).toBeGreaterThan(31_000);
    expect(window?.medianMs).toBeLessThan(35_000);
    expect(window?.lowMs).toBeGreaterThan(33_000 * 0.8);
    expect(window?.highMs).toBeLessThan(33_000 * 1.2);
  });

  it('tightens its window as jobs finish, and covers most of the real spread from the first few', () => {
    const widths = [3, 6, 12, 40, 300].map((jobs) => {
      const model = new DurationModel();
      learnFrom(model, jobs, 7);
      const window = model.predict(150);
      if (!window) throw new Error(`no prediction after ${jobs} jobs`);
      // The real spread at 150 s of music is 28.05 to 37.95 s: most of it lies in the window.
      const covered = (Math.min(window.highMs, 37_950) - Math.max(window.lowMs, 28_050)) / 9_900;
      expect(covered).toBeGreaterThan(jobs >= 12 ? 0.85 : 0.75);
      return window.highMs - window.lowMs;
    });
    const [three = 0, six = 0, twelve = 0, , all = 0] = widths;
    expect(three).toBeGreaterThan(six);
    expect(six).toBeGreaterThan(twelve);
    expect(twelve).toBeGreaterThan(all);
    // From 300 jobs, close to the real 2%–98% spread (0.96 × 9.9 s).
    expect(all).toBeGreaterThan(9_504 * 0.9);
    expect(all).toBeLessThan(9_504 * 1.1);
  });

  it('gives the chance of finishing across the window, summing to all but the tails', () => {
    const model = new DurationModel({ tail: 0.02 });
    // Most jobs right on the line, a few 20% slower.
    for (let i = 0; i < 40; i++) model.add(60, i % 10 === 0 ? 18_000 : 15_000);
    const window = model.predict(60);
    const density = window?.density ?? [];
    expect(density.reduce((sum, p) => sum + p, 0)).toBeCloseTo(0.96, 2);
    const peak = density.indexOf(Math.max(...density));
    expect(peak).toBeLessThan(density.length / 2);
  });

  it('follows the provider when it changes pace: only recent jobs count', () => {
    const model = new DurationModel({ minSamples: 5, maxSamples: 5, tail: 0, priorSpread: 0 });
    for (let i = 0; i < 5; i++) model.add(30, 30_000);
    for (let i = 0; i < 5; i++) model.add(30, 10_000);
    expect(model.predict(30)?.medianMs).toBeCloseTo(10_000, 0);
  });

  it('ignores nonsense samples', () => {
    const model = new DurationModel({ minSamples: 1, maxSamples: 5, tail: 0 });
    model.add(30, -5);
    model.add(0, 1_000);
    model.add(30, Number.NaN);
    expect(model.size).toBe(0);
  });
});

describe('the schedule with a learned window', () => {
  it('starts at the first planned check, and at a fixed delay before learning', () => {
    const model = new DurationModel();
    learnFrom(model, 100);
    const window = model.predict(150);
    if (!window) throw new Error('no prediction');
    const first = firstPollDelay(defaultSchedule, window);
    expect(first).toBe(planChecks(window, defaultSchedule.targetLagMs, defaultSchedule.minGapMs)[0]);
    expect(first).toBeGreaterThan(window.lowMs);
    expect(firstPollDelay(defaultSchedule, undefined)).toBe(2_000);
  });
});

describe('finishedShare', () => {
  it('reads the predicted share of jobs done by a given time from the window', () => {
    const window = { lowMs: 10_000, medianMs: 12_500, highMs: 20_000, density: [0.5, 0.3, 0.1, 0.1] };
    expect(finishedShare(window, 5_000)).toBe(0);
    expect(finishedShare(window, 12_500)).toBeCloseTo(0.5, 6);
    expect(finishedShare(window, 15_000)).toBeCloseTo(0.8, 6);
    expect(finishedShare(window, 16_250)).toBeCloseTo(0.85, 6);
    expect(finishedShare(window, 25_000)).toBe(1);
    // No density: even across the window.
    expect(finishedShare({ lowMs: 0, medianMs: 5, highMs: 10 }, 2.5)).toBeCloseTo(0.25, 6);
  });
});
