import { describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../support/clock.js';
import { ProgressThrottle, worthAnEdit } from '../../src/generation/progress.js';

describe('ProgressThrottle', () => {
  it('sends the first edit at once, coalesces a burst into one trailing edit, and respects the interval', async () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    const throttle = new ProgressThrottle(() => Promise.resolve(void sent.push(clock.now())), clock, 3_000);
    const start = clock.now();
    throttle.request();
    for (let i = 0; i < 10; i++) throttle.request();
    await settle();
    expect(sent).toEqual([start]);
    await clock.advance(3_000);
    expect(sent).toEqual([start, start + 3_000]);
    await clock.advance(10_000);
    expect(sent).toHaveLength(2);
  });

  it('settle() drops a pending edit and waits for the one in flight', async () => {
    const clock = new ManualClock();
    let finish: () => void = () => undefined;
    let sends = 0;
    const throttle = new ProgressThrottle(
      () =>
        new Promise<void>((resolve) => {
          sends++;
          finish = resolve;
        }),
      clock,
      3_000,
    );
    throttle.request();
    throttle.request(); // pending, to be dropped
    let settled = false;
    const done = throttle.settle().then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    finish();
    await done;
    await clock.advance(5_000);
    throttle.request();
    await settle();
    expect(sends).toBe(1);
  });

  it('without trailing edits, drops what the interval holds back, and keeps its last edit where it is told', async () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    // A queue job's data: the time of the last edit outlives each step's throttle.
    const data: { lastEditAt?: number } = {};
    const step = () =>
      new ProgressThrottle(() => Promise.resolve(void sent.push(clock.now())), clock, 3_000, {
        memory: data,
        trailing: false,
      });
    const first = step();
    first.request();
    first.request();
    await first.settle();
    expect(sent).toEqual([clock.now()]);
    expect(data.lastEditAt).toBe(clock.now());

    await clock.advance(1_000);
    const second = step();
    second.request();
    await clock.advance(5_000);
    await second.settle();
    expect(sent).toHaveLength(1);

    const third = step();
    third.request();
    await third.settle();
    expect(sent).toEqual([data.lastEditAt! - 6_000, data.lastEditAt]);
  });
});

describe('worthAnEdit', () => {
  it('edits at every step near the front of the line and every ten places further back', () => {
    expect(worthAnEdit(undefined, 500)).toBe(true);
    expect(worthAnEdit(21, 20)).toBe(true);
    expect(worthAnEdit(3, 2)).toBe(true);
    expect(worthAnEdit(499, 498)).toBe(false);
    expect(worthAnEdit(491, 489)).toBe(true);
    expect(worthAnEdit(35, 31)).toBe(false);
  });
});
