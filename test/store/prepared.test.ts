import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Db } from '../../src/store/db.js';
import { prepareQuery } from '../../src/store/prepared.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const prefsOf = prepareQuery((db: Db, v: { guildId: string; userId: string }) =>
  db
    .selectFrom('member_prefs')
    .select(['user_id', 'length_seconds'])
    .where('guild_id', '=', v.guildId)
    .where('user_id', '=', v.userId)
    .where('vocals', 'in', ['vocals', 'instrumental']),
);

const insertPrefs = prepareQuery(
  (
    db: Db,
    row: { guild_id: string; user_id: string; length_seconds: number; vocals: 'vocals'; updated_at: number },
  ) => db.insertInto('member_prefs').values({ ...row, style_suffix: null }),
);

describe.each(['sqlite', 'postgres'] as const)('prepared queries on %s', (dialect) => {
  let dir: string;
  let store: Database;
  let database: TestDatabase | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracksmith-prepared-'));
    if (dialect === 'postgres') database = await createTestDatabase();
    store = await openDatabase({ url: database?.url ?? 'sqlite::memory:', dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    await database?.drop();
    database = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs one compiled statement with each call’s values, in and out of transactions', async () => {
    const { db } = store;
    for (const [n, userId] of ['u1', 'u2', 'u3'].entries())
      await insertPrefs.execute(db, {
        guild_id: 'g1',
        user_id: userId,
        length_seconds: 10 * (n + 1),
        vocals: 'vocals',
        updated_at: n,
      });
    const read = async (executor: Db, guildId: string, userId: string) =>
      (await prefsOf.execute(executor, { guildId, userId })).rows;
    expect(await read(db, 'g1', 'u2')).toEqual([{ user_id: 'u2', length_seconds: 20 }]);
    expect(await read(db, 'g1', 'u3')).toEqual([{ user_id: 'u3', length_seconds: 30 }]);
    expect(await read(db, 'g2', 'u3')).toEqual([]);
    await db.transaction().execute(async (trx) => {
      await insertPrefs.execute(trx, {
        guild_id: 'g2',
        user_id: 'u3',
        length_seconds: 99,
        vocals: 'vocals',
        updated_at: 9,
      });
      expect(await read(trx, 'g2', 'u3')).toEqual([{ user_id: 'u3', length_seconds: 99 }]);
    });
  });

  it('refuses a value the query does not bind as a parameter, and a run without a value', async () => {
    // The name is given but never reaches the SQL as a parameter.
    const unbound = prepareQuery((db: Db, _v: { guildId: string }) =>
      db.selectFrom('member_prefs').selectAll().where('guild_id', '=', 'g1'),
    );
    await expect(unbound.execute(store.db, { guildId: 'g1' })).rejects.toThrow(/guildId not bound/);
    const ok = { guildId: 'g1', userId: 'u1' };
    await prefsOf.execute(store.db, ok);
    await expect(prefsOf.execute(store.db, { guildId: 'g1' } as typeof ok)).rejects.toThrow(
      /no value for userId/,
    );
  });
});
