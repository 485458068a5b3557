import { describe, expect, it } from 'vitest';
import { defaultSchedule, nextPollDelay } from '../../src/generation/schedule.js';

describe('nextPollDelay', () => {
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
