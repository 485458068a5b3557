import { describe, expect, it } from 'vitest';
import { isTransientStoreError, StoreHealth } from '../../src/store/health.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('store faults', () => {
  it('tells faults that pass from ones that trying again cannot mend', () => {
    const transient = [
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('database "x" is not currently accepting connections', '55000'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('database is locked', 'SQLITE_BUSY'),
      new Error('Connection terminated unexpectedly'),
    ];
    const permanent = [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('UNIQUE constraint failed: usage.id', 'SQLITE_CONSTRAINT_PRIMARYKEY'),
      withCode('syntax error at or near "selec"', '42601'),
      new TypeError('Cannot read properties of undefined'),
      'not an error',
    ];
    expect(transient.map(isTransientStoreError)).toEqual(transient.map(() => true));
    expect(permanent.map(isTransientStoreError)).toEqual(permanent.map(() => false));
  });

  it('goes down on a fault that passes, is probed, and comes back up by itself', async () => {
    let refusing = true;
    const events: string[] = [];
    let back!: () => void;
    const up = new Promise<void>((resolve) => (back = resolve));
    const health = new StoreHealth({
      probe: () => (refusing ? Promise.reject(withCode('refused', 'ECONNREFUSED')) : Promise.resolve()),
      probeIntervalMs: 10,
      onDown: () => events.push('down'),
      onUp: () => {
        events.push('up');
        back();
      },
    });
    health.failed(withCode('a constraint', '23505'));
    expect(health.up).toBe(true);
    health.failed(withCode('refused', 'ECONNREFUSED'));
    health.failed(withCode('refused again', 'ECONNREFUSED'));
    expect(health.up).toBe(false);
    expect(health.status()).toMatchObject({ ok: false, error: 'refused again' });
    refusing = false;
    await up;
    expect(health.up).toBe(true);
    expect(events).toEqual(['down', 'up']);
    health.close();
  });
});
