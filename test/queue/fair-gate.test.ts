import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FairGate, type GateTicket } from '../../src/generation/gate.js';
import { RedisFairGate } from '../../src/generation/redis/fair-gate.js';
import { createTestRedisSpace, testRedisUrl, type TestRedisSpace } from '../support/redis.js';

/** A small seeded generator, so a failing sequence can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

let redis: Redis;
let space: TestRedisSpace;
beforeAll(() => {
  redis = new Redis(testRedisUrl);
});
afterAll(() => {
  redis.disconnect();
});
afterEach(async () => {
  await space.drop();
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisFairGate (real Redis)', () => {
  it.each([1, 2, 3, 4, 5])(
    'admits in the same order and shows the same places as the in-process gate (seed %i)',
    async (seed) => {
      space = createTestRedisSpace();
      const random = rng(seed);
      const globalLimit = 1 + Math.floor(random() * 4);
      const guildLimits = new Map([
        ['g1', 1],
        ['g2', 2],
        ['g3', 3],
        ['g4', 1],
      ]);
      const limitOf = (guild: string) => guildLimits.get(guild) ?? 1;
      const local = new FairGate({ globalLimit, guildLimit: limitOf });
      const remote = new RedisFairGate(redis, `${space.prefix}:gate:`, globalLimit);

      interface Entry {
        id: string;
        guild: string;
        user: string;
        ticket: GateTicket;
        admitted: boolean;
      }
      // The in-process gate tells a job its place as it enters, before its entry exists.
      const positions = new Map<string, number>();
      const entries = new Map<string, Entry>();
      const localOrder: string[] = [];
      const remoteOrder: string[] = [];
      let next = 0;

      for (let step = 0; step < 250; step++) {
        const waiting = [...entries.values()].filter((e) => !e.admitted);
        const running = [...entries.values()].filter((e) => e.admitted);
        const roll = random();
        if (roll < 0.55 || entries.size === 0) {
          const id = `job-${next++}`;
          const guild = `g${1 + Math.floor(random() * 4)}`;
          const user = `u${1 + Math.floor(random() * 3)}`;
          const entry: Entry = {
            id,
            guild,
            user,
            admitted: false,
            ticket: local.enter(guild, user, (position) => positions.set(id, position)),
          };
          void entry.ticket.admitted.then(() => {
            entry.admitted = true;
            localOrder.push(id);
          });
          entries.set(id, entry);
          const { admitted } = await remote.enter(id, guild, user, limitOf(guild));
          remoteOrder.push(...admitted);
        } else {
          // Mostly a running job ends; now and then one leaves the line (a member cancels).
          const pool = roll < 0.9 && running.length > 0 ? running : waiting.length > 0 ? waiting : running;
          const gone = pool[Math.floor(random() * pool.length)];
          if (!gone) continue;
          gone.ticket.release();
          entries.delete(gone.id);
          remoteOrder.push(...(await remote.release(gone.id)));
        }
        await flush();

        expect(remoteOrder).toEqual(localOrder);
        // Entering again only reads a waiting job's place, so the reads go out together: one at a
        // time, a long line cost hundreds of round trips a step and ran past 20 s on a busy machine.
        const waitingNow = [...entries.values()].filter((e) => !e.admitted);
        const places = await Promise.all(
          waitingNow.map(async (entry) => {
            const { position } = await remote.enter(entry.id, entry.guild, entry.user, limitOf(entry.guild));
            return { id: entry.id, position };
          }),
        );
        expect(places).toEqual(
          waitingNow.map((entry) => ({ id: entry.id, position: positions.get(entry.id) })),
        );
        expect(await remote.counts()).toEqual({
          waiting: waitingNow.length,
          running: local.active(),
        });
      }
      expect(localOrder.length).toBeGreaterThan(50);
    },
  );

  it('never overruns a limit or admits a job twice when many clients race', async () => {
    space = createTestRedisSpace();
    const clients = Array.from({ length: 8 }, () => new Redis(testRedisUrl));
    const globalLimit = 10;
    const gates = clients.map((client) => new RedisFairGate(client, `${space.prefix}:gate:`, globalLimit));
    const gateAt = (i: number): RedisFairGate => gates[i % gates.length] as RedisFairGate;
    const admitted: string[] = [];
    const running = new Set<string>();
    const guildOf = (id: string) => `g${Number(id.split('-')[1]) % 12}`;
    let maxTotal = 0;
    let maxGuild = 0;
    const note = (ids: string[]) => {
      admitted.push(...ids);
      for (const id of ids) running.add(id);
      maxTotal = Math.max(maxTotal, running.size);
      const perGuild = new Map<string, number>();
      for (const id of running) perGuild.set(guildOf(id), (perGuild.get(guildOf(id)) ?? 0) + 1);
      maxGuild = Math.max(maxGuild, ...perGuild.values());
    };
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `job-${i}`);
      await Promise.all(
        ids.map(async (id, i) => {
          note((await gateAt(i).enter(id, guildOf(id), `u${i % 5}`, 2)).admitted);
        }),
      );
      // Finish whatever runs, from any client, until every job has run once.
      while (running.size > 0) {
        const batch = [...running];
        running.clear();
        const freed = await Promise.all(batch.map((id, i) => gateAt(i).release(id)));
        for (const ids of freed) note(ids);
      }
      expect(maxTotal).toBeLessThanOrEqual(globalLimit);
      expect(maxGuild).toBeLessThanOrEqual(2);
      expect(admitted).toHaveLength(300);
      expect(new Set(admitted).size).toBe(300);
      expect(await gateAt(0).counts()).toEqual({ waiting: 0, running: 0 });
      // An idle server is forgotten: only the two counters are left.
      expect((await space.keys()).sort()).toEqual([`${space.prefix}:gate:seq`, `${space.prefix}:gate:total`]);
    } finally {
      for (const client of clients) client.disconnect();
    }
  });
});
