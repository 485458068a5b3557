import { describe, expect, it } from 'vitest';
import { FairGate, type GateTicket } from '../../src/generation/gate.js';
import { settle } from '../support/clock.js';

/** Enters jobs named `guild/user/n` and records the order they are admitted in. */
function harness(globalLimit: number, guildLimit: (guildId: string) => number = () => 100) {
  const gate = new FairGate({ globalLimit, guildLimit });
  const admitted: string[] = [];
  const positions = new Map<string, number[]>();
  const tickets = new Map<string, GateTicket>();
  const enter = (...names: string[]) => {
    for (const name of names) {
      const [guild = '', user = ''] = name.split('/');
      const ticket = gate.enter(guild, user, (p) => positions.set(name, [...(positions.get(name) ?? []), p]));
      void ticket.admitted.then(() => admitted.push(name));
      tickets.set(name, ticket);
    }
  };
  const release = (name: string) => {
    tickets.get(name)?.release();
  };
  /** Releases whatever runs, one at a time, until everyone has been admitted. */
  const drain = async () => {
    await settle();
    for (let i = 0; i < 1000 && gate.waiting() > 0; i++) {
      const running = [...tickets.entries()].find(([name]) => admitted.includes(name));
      if (!running) break;
      running[1].release();
      tickets.delete(running[0]);
      await settle();
    }
  };
  return { gate, admitted, positions, enter, release, drain };
}

describe('FairGate', () => {
  it('admits up to the global limit and tells each waiting job its place as it changes', async () => {
    const t = harness(2);
    t.enter('g/u/1', 'g/u/2', 'g/u/3', 'g/u/4', 'g/u/5');
    await settle();
    expect(t.admitted).toEqual(['g/u/1', 'g/u/2']);
    expect(t.positions.get('g/u/3')).toEqual([1]);
    expect(t.positions.get('g/u/5')).toEqual([3]);

    t.release('g/u/1');
    await settle();
    expect(t.admitted).toEqual(['g/u/1', 'g/u/2', 'g/u/3']);
    expect(t.positions.get('g/u/4')).toEqual([2, 1]);
    expect(t.positions.get('g/u/5')).toEqual([3, 2]);

    t.release('g/u/5'); // leaves the line before its turn
    t.release('g/u/2');
    t.release('g/u/2'); // a second release changes nothing
    await settle();
    expect(t.admitted).toEqual(['g/u/1', 'g/u/2', 'g/u/3', 'g/u/4']);
    expect(t.gate.active()).toBe(2);
    expect(t.gate.waiting()).toBe(0);
  });

  it('serves servers round-robin, so a busy server cannot starve a quiet one', async () => {
    const t = harness(1);
    t.enter('busy/a/1', 'busy/a/2', 'busy/a/3', 'busy/a/4', 'quiet/b/1', 'other/c/1');
    await settle();
    // The quiet servers arrived last but are told they are next after one job of the busy one.
    expect(t.positions.get('quiet/b/1')).toEqual([1]);
    expect(t.positions.get('other/c/1')).toEqual([2]);
    await t.drain();
    expect(t.admitted).toEqual(['busy/a/1', 'quiet/b/1', 'other/c/1', 'busy/a/2', 'busy/a/3', 'busy/a/4']);
  });

  it('alternates between the members of one server', async () => {
    const t = harness(1);
    t.enter('g/x/1', 'g/x/2', 'g/x/3', 'g/y/1', 'g/z/1', 'g/y/2');
    await t.drain();
    expect(t.admitted).toEqual(['g/x/1', 'g/y/1', 'g/z/1', 'g/x/2', 'g/y/2', 'g/x/3']);
  });

  it('keeps each server under its own limit while others use the free slots', async () => {
    let limitOfOne = 1;
    const t = harness(10, (guild) => (guild === 'one' ? limitOfOne : 10));
    t.enter('one/u/1', 'one/u/2', 'two/v/1', 'two/v/2');
    await settle();
    expect(t.admitted).toEqual(['one/u/1', 'two/v/1', 'two/v/2']);
    expect(t.gate.active('one')).toBe(1);
    limitOfOne = 2; // any release looks at every line again
    t.release('two/v/1');
    await settle();
    expect(t.admitted).toContain('one/u/2');
  });

  it('lets everyone through on close, so waiting jobs can see the bot is stopping', async () => {
    const t = harness(1);
    t.enter('g/u/1', 'g/u/2', 'h/v/1');
    t.gate.close();
    await settle();
    // In the order fairness gives them: the other server's job first.
    expect(t.admitted).toEqual(['g/u/1', 'h/v/1', 'g/u/2']);
    expect(t.gate.waiting()).toBe(0);
  });
});
