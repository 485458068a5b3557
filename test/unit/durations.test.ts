import { describe, expect, it } from 'vitest';
import { DurationModel } from '../../src/generation/durations.js';
import { defaultSchedule, firstPollDelay, nextPollDelay } from '../../src/generation/schedule.js';

describe('DurationModel', () => {
  it('predicts nothing until it has seen enough jobs', () => {
    const model = new DurationModel({ minSamples: 3, maxSamples: 10, tail: 0 });
    model.add(30, 9_000);
    model.add(60, 15_000);
    expect(model.predict(45)).toBeUndefined();
    model.add(90, 21_000);
    expect(model.predict(45)).toEqual({ lowMs: 12_000, medianMs: 12_000, highMs: 12_000 });
  });

  it('learns time that grows with length, and a window as wide as the noise', () => {
    // 3 s + 0.2 s per second of music, ±15%: the shape the real service shows.
    const model = new DurationModel({ minSamples: 10, maxSamples: 500, tail: 0.02 });
    let seed = 1;
    const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 400; i++) {
      const length = 10 + Math.floor(random() * 291);
      model.add(length, (3_000 + 200 * length) * (0.85 + 0.3 * random()));
    }
    const window = model.predict(150);
    expect(window?.medianMs).toBeGreaterThan(31_000);
    expect(window?.medianMs).toBeLessThan(35_000);
    expect(window?.lowMs).toBeGreaterThan(33_000 * 0.8);
    expect(window?.highMs).toBeLessThan(33_000 * 1.2);
  });

  it('follows the provider when it changes pace: only recent jobs count', () => {
    const model = new DurationModel({ minSamples: 5, maxSamples: 5, tail: 0 });
    for (let i = 0; i < 5; i++) model.add(30, 30_000);
    for (let i = 0; i < 5; i++) model.add(30, 10_000);
    expect(model.predict(30)?.medianMs).toBe(10_000);
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
  const window = { lowMs: 20_000, medianMs: 22_000, highMs: 24_000 };
  const at = (elapsedMs: number) =>
    nextPollDelay({ elapsedMs, consecutiveFailures: 0, window }, defaultSchedule, 0);

  it('waits for the window, checks every second inside it, and widens its gaps after it', () => {
    expect(firstPollDelay(defaultSchedule, window)).toBe(20_000);
    expect(firstPollDelay(defaultSchedule, undefined)).toBe(2_000);
    expect(at(10_000)).toBe(10_000);
    expect(at(19_900)).toBe(500);
    expect(at(21_000)).toBe(1_000);
    expect(at(30_000)).toBe(4_500);
  });

  it('still backs off after failures inside the window', () => {
    expect(nextPollDelay({ elapsedMs: 21_000, consecutiveFailures: 3, window }, defaultSchedule, 0)).toBe(
      4_000,
    );
  });
});
