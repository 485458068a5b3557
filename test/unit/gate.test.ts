import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/generation/gate.js';
import { settle } from '../support/clock.js';

describe('ConcurrencyGate', () => {
  it('admits up to the limit per key and queues the rest in order, telling each its place', async () => {
    const gate = new ConcurrencyGate(() => 2);
    const positions = new Map<string, number[]>();
    const admitted: string[] = [];
    const tickets = ['a', 'b', 'c', 'd', 'e'].map((name) => {
      const ticket = gate.enter('guild', (p) => positions.set(name, [...(positions.get(name) ?? []), p]));
      void ticket.admitted.then(() => admitted.push(name));
      return ticket;
    });
    await settle();
    expect(admitted).toEqual(['a', 'b']);
    expect(positions.get('c')).toEqual([1]);
    expect(positions.get('e')).toEqual([3]);

    tickets[0]?.release();
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c']);
    expect(positions.get('d')).toEqual([2, 1]);
    expect(positions.get('e')).toEqual([3, 2]);

    tickets[4]?.release(); // leaves the line before its turn
    tickets[1]?.release();
    tickets[1]?.release(); // a second release changes nothing
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.active('guild')).toBe(2);
    expect(gate.waiting('guild')).toBe(0);
  });

  it('keeps servers independent and follows a limit that changes', async () => {
    let limit = 1;
    const gate = new ConcurrencyGate(() => limit);
    const first = gate.enter('one');
    const second = gate.enter('one');
    const other = gate.enter('two');
    let secondIn = false;
    void second.admitted.then(() => (secondIn = true));
    await Promise.all([first.admitted, other.admitted]);
    expect(secondIn).toBe(false);
    limit = 2;
    other.release(); // any release re-checks the line of its own key only
    await settle();
    expect(secondIn).toBe(false);
    first.release();
    await settle();
    expect(secondIn).toBe(true);
  });
});
