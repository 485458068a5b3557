import { describe, expect, it } from 'vitest';
import { Lull } from '../../src/generation/lull.js';
import { ManualClock, settle } from '../support/clock.js';

describe('Lull', () => {
  const setup = () => {
    const clock = new ManualClock();
    const lull = new Lull({ clock, settleMs: 20, maxWaitMs: 500 });
    const started: string[] = [];
    const follow = (name: string) => void lull.quiet().then(() => started.push(name));
    return { clock, lull, started, follow };
  };

  it('lets work start at once when no acknowledgement is in flight', async () => {
    const { lull, started, follow } = setup();
    follow('a');
    await settle();
    expect(started).toEqual(['a']);
    expect(lull.inFlight).toBe(0);
  });

  it('holds follow-on work until the acknowledgements are out and a moment has passed, in order', async () => {
    const { clock, lull, started, follow } = setup();
    const first = lull.busy();
    const second = lull.busy();
    follow('a');
    follow('b');
    first();
    await clock.advance(100);
    expect(started).toEqual([]);
    second();
    // Answering twice changes nothing.
    second();
    expect(lull.inFlight).toBe(0);
    await clock.advance(19);
    expect(started).toEqual([]);
    await clock.advance(1);
    expect(started).toEqual(['a', 'b']);
  });

  it('waits no longer than maxWaitMs, so a bot that is never idle still gets on', async () => {
    const { clock, lull, started, follow } = setup();
    lull.busy();
    follow('a');
    await clock.advance(300);
    follow('b');
    await clock.advance(199);
    expect(started).toEqual([]);
    await clock.advance(1);
    expect(started).toEqual(['a']);
    await clock.advance(300);
    expect(started).toEqual(['a', 'b']);
  });

  it('keeps later work behind earlier work still waiting', async () => {
    const { clock, lull, started, follow } = setup();
    const answered = lull.busy();
    follow('a');
    answered();
    await clock.advance(20);
    follow('b');
    await settle();
    expect(started).toEqual(['a', 'b']);
  });
});
