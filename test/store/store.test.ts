import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createReserver,
  reserveDraft,
  reserveSlot,
  reserveSlots,
  type Reservation,
  type ReservationRequest,
} from '../../src/limits/reserve.js';
import { DatabaseUrlError, openDatabase, type Database } from '../../src/store/db.js';
import { guildUsage } from '../../src/store/reservation-statements.js';
import { createSettingsRepository } from '../../src/store/settings-repository.js';
import { createSongwritingRepository } from '../../src/store/songwriting-repository.js';
import { createTracksRepository } from '../../src/store/tracks-repository.js';
import { createUsageRepository } from '../../src/store/usage-repository.js';
import { compileCacheEnv, entryPoint } from '../support/entry-points.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const guild = '100000000000000001';
const moderator = '200000000000000001';
const now = Date.UTC(2026, 10, 24, 12);

let dir: string;
let url: string;
let store: Database | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracksmith-store-'));
  url = `sqlite://${join(dir, 'nested', 'test.sqlite')}`;
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<Database> {
  await store?.close();
  store = await openDatabase({ url, dataDir: dir });
  return store;
}

function request(n: number, overrides: Partial<ReservationRequest> = {}): ReservationRequest {
  return {
    id: `req-${n}`,
    guildId: guild,
    channelId: '100000000000000002',
    userId: '200000000000000042',
    memberRoleIds: [],
    prompt: `take ${n}`,
    lengthSeconds: undefined,
    kind: 'music',
    reply: {
      applicationId: '110000000000000001',
      interactionToken: `token-${n}`,
      uploadLimitBytes: 10_485_760,
    },
    now: now + n,
    ...overrides,
  };
}

describe.each(['sqlite', 'postgres'] as const)('store on %s', (dialect) => {
  let database: TestDatabase | undefined;
  beforeEach(async () => {
    if (dialect !== 'postgres') return;
    database = await createTestDatabase();
    url = database.url;
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await database?.drop();
    database = undefined;
  });

  it('creates the schema on first open, and reopening keeps settings and usage', async () => {
    const first = await open();
    const settings = createSettingsRepository(first.db);
    await settings.update(guild, { userDaily: 3, exemptRoleId: '500000000000000001' }, moderator, now);
    await settings.addBlockedWord(guild, 'kazoo', moderator, now);
    expect(await reserveSlot(first.db, request(1))).toMatchObject({ ok: true, lengthSeconds: 30 });

    const second = await open();
    expect(second.location).toEqual(
      dialect === 'sqlite'
        ? join(dir, 'nested', 'test.sqlite')
        : expect.stringMatching(/^postgres:\/\/127\.0\.0\.1:5432\/tracksmith_test_/),
    );
    expect(second.dialect).toBe(dialect);
    expect(await createSettingsRepository(second.db).get(guild)).toMatchObject({
      userDaily: 3,
      exemptRoleId: '500000000000000001',
    });
    expect(await createSettingsRepository(second.db).blockedWords(guild)).toEqual(['kazoo']);
    expect(
      await createUsageRepository(second.db).countUserSince(guild, '200000000000000042', now - 1000),
    ).toBe(1);
  });

  it('records who changed what, from and to, and lists the latest first', async () => {
    const { db } = await open();
    const settings = createSettingsRepository(db);
    const { changes } = await settings.update(
      guild,
      { maxLengthSeconds: 120, cooldownSeconds: 30 },
      moderator,
      now,
    );
    expect(changes).toEqual([
      {
        userId: moderator,
        source: 'discord',
        setting: 'maxLengthSeconds',
        oldValue: '300 s',
        newValue: '120 s',
        changedAt: now,
      },
      {
        userId: moderator,
        source: 'discord',
        setting: 'cooldownSeconds',
        oldValue: '0 s',
        newValue: '30 s',
        changedAt: now,
      },
    ]);
    expect((await settings.update(guild, { maxLengthSeconds: 120 }, moderator, now + 1)).changes).toEqual([]);
    const { changes: reset } = await settings.reset(guild, '200000000000000002', now + 2);
    expect(reset.map((c) => [c.setting, c.newValue])).toEqual([
      ['maxLengthSeconds', '300 s'],
      ['cooldownSeconds', '0 s'],
    ]);
    const recent = await settings.recentChanges(guild, 3);
    expect(recent.map((c) => [c.userId, c.setting])).toEqual([
      ['200000000000000002', 'cooldownSeconds'],
      ['200000000000000002', 'maxLengthSeconds'],
      [moderator, 'cooldownSeconds'],
    ]);
  });

  it('adds and removes blocked words idempotently', async () => {
    const { db } = await open();
    const settings = createSettingsRepository(db);
    expect(await settings.addBlockedWord(guild, 'kazoo', moderator, now)).toBe(true);
    expect(await settings.addBlockedWord(guild, 'kazoo', moderator, now)).toBe(false);
    expect(await settings.removeBlockedWord(guild, 'kazoo')).toBe(true);
    expect(await settings.removeBlockedWord(guild, 'kazoo')).toBe(false);
  });

  it('twenty simultaneous requests from one member with user-daily 3 make exactly 3 reservations', async () => {
    const { db } = await open();
    await createSettingsRepository(db).update(guild, { userDaily: 3 }, moderator, now);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => reserveSlot(db, request(i))));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.flatMap((r) => (r.ok ? [] : [r.refusal.limit]))).toEqual(
      Array<string>(17).fill('user-daily'),
    );
    const rows = await db.selectFrom('usage').selectAll().execute();
    expect(rows).toHaveLength(3);
  });

  it('a server that floods the bot does not hold up the reservations of another', async () => {
    const { db } = await open();
    const reserve = createReserver(db);
    // Two servers at once open two pooled connections first, so that the race below is not
    // decided by how long PostgreSQL takes to start a backend for the second server.
    await Promise.all(
      ['100000000000000007', '100000000000000008'].map((guildId, i) =>
        reserve(request(200 + i, { guildId })),
      ),
    );
    const done: string[] = [];
    const flood = Array.from({ length: 30 }, (_, i) =>
      reserve(request(i, { userId: `2000000000000003${String(i).padStart(2, '0')}` })).then((r) => {
        done.push(`flood-${i}`);
        return r;
      }),
    );
    const other = reserve(request(99, { guildId: '100000000000000009' })).then((r) => {
      done.push('other');
      return r;
    });
    const results = await Promise.all([...flood, other]);
    expect(results.every((r) => r.ok)).toBe(true);
    // Without the line, thirty transactions waiting on one server's lock fill the pool of ten
    // (on SQLite, the one connection's queue) and the other server waits for twenty or more of
    // them. With it, the other server runs beside the flood's first few; a third is ample slack
    // for a loaded machine.
    expect(done.indexOf('other')).toBeLessThan(10);
    expect(done.filter((d) => d.startsWith('flood'))).toEqual(flood.map((_, i) => `flood-${i}`));
  });

  it('group commit: a burst through the reserver keeps every limit exact, in arrival order', async () => {
    const { db } = await open();
    const settings = createSettingsRepository(db);
    await settings.update(guild, { userDaily: 3, guildDaily: 5 }, moderator, now);
    const reserve = createReserver(db);
    const other = '100000000000000009';
    // One turn's worth: a member asking 6 times, four more members, and another server.
    const burst = [
      ...Array.from({ length: 6 }, (_, i) => request(i)),
      ...Array.from({ length: 4 }, (_, i) =>
        request(10 + i, { userId: `2000000000000005${String(i).padStart(2, '0')}` }),
      ),
      ...Array.from({ length: 3 }, (_, i) => request(20 + i, { guildId: other })),
    ];
    const results = await Promise.all(burst.map((each) => reserve(each)));
    // The member's first three, then two more members up to the server's five; the rest refused,
    // each for the limit it met first. The other server is not counted against this one.
    expect(results.map((r) => (r.ok ? 'ok' : r.refusal.limit))).toEqual([
      'ok',
      'ok',
      'ok',
      'user-daily',
      'user-daily',
      'user-daily',
      'ok',
      'ok',
      'guild-daily',
      'guild-daily',
      'ok',
      'ok',
      'ok',
    ]);
    const rows = await db.selectFrom('usage').select(['id', 'guild_id']).orderBy('id').execute();
    expect(rows.map((row) => row.id)).toEqual([
      'req-0',
      'req-1',
      'req-10',
      'req-11',
      'req-2',
      'req-20',
      'req-21',
      'req-22',
    ]);
  });

  it('one transaction counts its own reservations as reading them back would, across midnight too', async () => {
    const { db } = await open();
    const settings = createSettingsRepository(db);
    // Two copies of the same two servers: one takes the requests in a single transaction, the
    // other one request per transaction, reading everything afresh each time.
    const batched = ['100000000000000011', '100000000000000012'];
    const alone = ['100000000000000021', '100000000000000022'];
    for (const id of [...batched, ...alone]) {
      await settings.update(
        id,
        { userDaily: 2, guildDaily: 7, cooldownSeconds: 10, concurrent: 2 },
        moderator,
        now,
      );
    }
    const members = ['200000000000000071', '200000000000000072', '200000000000000073'];
    const start = Date.UTC(2026, 10, 24, 23, 58, 30);
    // Three seconds apart from 90 s before midnight: cooldowns, daily caps met before midnight and
    // lifted after it, and requests beyond `concurrent` waiting in line.
    const plan = Array.from({ length: 48 }, (_, i) => ({
      server: i % 5 === 4 ? 1 : 0,
      userId: members[(i * 7) % 3] ?? '',
      now: start + i * 3_000 - (i % 3 === 0 ? 2_000 : 0),
      lengthSeconds: i % 9 === 8 ? 400 : 30,
    }));
    const requestsFor = (servers: string[], prefix: string) =>
      plan.map((step, i) =>
        request(i, {
          id: `${prefix}-${i}`,
          guildId: servers[step.server] ?? '',
          userId: step.userId,
          now: step.now,
          lengthSeconds: step.lengthSeconds,
        }),
      );
    // Some history first, the same in both.
    for (const servers of [batched, alone]) {
      await reserveSlot(
        db,
        request(100, { id: `${servers[0]}-early`, guildId: servers[0] ?? '', now: start - 60_000 }),
      );
    }
    const inOne = await reserveSlots(db, requestsFor(batched, 'batched'));
    const oneByOne: Reservation[] = [];
    for (const each of requestsFor(alone, 'alone')) oneByOne.push(await reserveSlot(db, each));

    const outcome = (r: Reservation) => (r.ok ? `ok${r.queued ? ' queued' : ''}` : r.refusal.limit);
    expect(inOne.map(outcome)).toEqual(oneByOne.map(outcome));
    // The plan meets every limit it is meant to, so the comparison is not between two empty lists.
    const seen = new Set(oneByOne.map(outcome));
    for (const expected of ['ok', 'ok queued', 'cooldown', 'user-daily', 'max-length']) {
      expect(seen).toContain(expected);
    }
    const afterMidnight = plan.findIndex((step) => step.now >= Date.UTC(2026, 10, 25));
    const capped = oneByOne.findIndex((r) => !r.ok && r.refusal.limit === 'user-daily');
    expect(capped).toBeLessThan(afterMidnight);
    expect(
      oneByOne
        .slice(afterMidnight)
        .some((r, i) => r.ok && plan[afterMidnight + i]?.userId === plan[capped]?.userId),
    ).toBe(true);
  });

  it('group commit: one request that cannot be written fails alone, and the others go through', async () => {
    const { db } = await open();
    const reserve = createReserver(db);
    expect((await reserve(request(1))).ok).toBe(true);
    const results = await Promise.allSettled([
      reserve(request(2, { userId: '200000000000000061' })),
      // The same ID again: the ledger's primary key refuses it.
      reserve(request(1, { userId: '200000000000000062' })),
      reserve(request(3, { userId: '200000000000000063' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db.selectFrom('usage').selectAll().execute()).toHaveLength(3);
  });

  it('holds the limit across processes sharing the store', async () => {
    const { db } = await open();
    await createSettingsRepository(db).update(guild, { userDaily: 3 }, moderator, Date.now());
    const script = await entryPoint('reserver');
    const racers = [0, 1, 2].map((p) => {
      const child = spawn(process.execPath, [script, url, String(p), '8'], {
        env: { ...process.env, ...compileCacheEnv },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      return { child, nextLine: async () => String((await lines.next()).value) };
    });
    // Every process has its store open before any of them reserves, so their transactions overlap.
    for (const racer of racers) expect(await racer.nextLine()).toBe('ready');
    for (const racer of racers) racer.child.stdin.end('go\n');
    const outputs = await Promise.all(racers.map(async (r) => JSON.parse(await r.nextLine()) as boolean[]));
    const granted = outputs.flat().filter(Boolean);
    expect(granted).toHaveLength(3);
    expect(await db.selectFrom('usage').selectAll().execute()).toHaveLength(3);
  });

  it('holds a server daily cap across members under concurrency', async () => {
    const { db } = await open();
    await createSettingsRepository(db).update(guild, { guildDaily: 5 }, moderator, now);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        reserveSlot(db, request(i, { userId: `2000000000000001${String(i).padStart(2, '0')}` })),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
  });

  it('gives the slot back when a request fails, and counts credits from what the provider reported', async () => {
    const { db } = await open();
    const usage = createUsageRepository(db);
    await createSettingsRepository(db).update(guild, { userDaily: 1 }, moderator, now);
    expect((await reserveSlot(db, request(1))).ok).toBe(true);
    expect((await reserveSlot(db, request(2))).ok).toBe(false);
    await usage.markFailed('req-1', 'provider error', 12.5, now + 10);
    expect((await reserveSlot(db, request(3))).ok).toBe(true);
    await usage.markSubmitted('req-3', 'gen:1/x', now + 20);
    await usage.markCompleted('req-3', { creditsUsed: 300, delivery: 'attachment via reply' }, now + 30);
    expect(await usage.creditsGuildSince(guild, now - 1)).toBe(312.5);
    expect(await usage.get('req-3')).toMatchObject({
      status: 'completed',
      generationId: 'gen:1/x',
      creditsUsed: 300,
    });
    expect(await usage.topMembersSince(guild, now - 1, 5)).toEqual([
      { userId: '200000000000000042', tracks: 1 },
    ]);
  });

  it('marks requests beyond the concurrency as queued and applies the default length', async () => {
    const { db } = await open();
    await createSettingsRepository(db).update(
      guild,
      { concurrent: 1, defaultLengthSeconds: 45 },
      moderator,
      now,
    );
    expect(await reserveSlot(db, request(1))).toMatchObject({ ok: true, queued: false, lengthSeconds: 45 });
    expect(await reserveSlot(db, request(2, { lengthSeconds: 12 }))).toMatchObject({
      ok: true,
      queued: true,
      lengthSeconds: 12,
    });
  });

  it('applies the cooldown and the monthly credits from what the ledger holds', async () => {
    const { db } = await open();
    const usage = createUsageRepository(db);
    await createSettingsRepository(db).update(
      guild,
      { cooldownSeconds: 60, monthlyCredits: 300 },
      moderator,
      now,
    );
    expect((await reserveSlot(db, request(1))).ok).toBe(true);
    expect(await reserveSlot(db, request(2, { now: now + 30_000 }))).toMatchObject({
      ok: false,
      refusal: { limit: 'cooldown' },
    });
    await usage.markSubmitted('req-1', 'gen-1', now + 1_000);
    await usage.markCompleted('req-1', { creditsUsed: 300, delivery: 'attachment via reply' }, now + 2_000);
    // Past the cooldown, but the month's credits are spent.
    expect(await reserveSlot(db, request(3, { now: now + 61_000 }))).toMatchObject({
      ok: false,
      refusal: { limit: 'monthly-credits' },
    });
    // Another member in another server is untouched.
    expect((await reserveSlot(db, request(4, { guildId: '100000000000000009', now: now + 61_000 }))).ok).toBe(
      true,
    );
  });

  it('numbers tracks per server, once each, even when many finish at the same moment', async () => {
    const { db } = await open();
    const tracks = createTracksRepository(db);
    const other = '100000000000000009';
    for (let i = 0; i < 20; i++) {
      expect(
        (await reserveSlot(db, request(i, { userId: `2000000000000002${String(i).padStart(2, '0')}` }))).ok,
      ).toBe(true);
    }
    expect((await reserveSlot(db, request(99, { guildId: other }))).ok).toBe(true);
    const numbers = await Promise.all(Array.from({ length: 20 }, (_, i) => tracks.assignNumber(`req-${i}`)));
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Asking again (a restarted delivery) gives the same number; another server starts at 1.
    expect(await tracks.assignNumber('req-7')).toBe(numbers[7]);
    expect(await tracks.assignNumber('req-99')).toBe(1);
  });

  it('lists delivered tracks newest first with their parents, and keeps deleted ones', async () => {
    const { db } = await open();
    const tracks = createTracksRepository(db);
    const usage = createUsageRepository(db);
    await reserveSlot(db, request(1));
    await reserveSlot(db, request(2, { kind: 'remix', parentId: 'req-1', userId: '200000000000000043' }));
    await reserveSlot(
      db,
      request(3, { kind: 'regenerate', parentId: 'req-1', userId: '200000000000000044' }),
    );
    for (const n of [1, 2, 3]) {
      await tracks.assignNumber(`req-${n}`);
      await usage.markCompleted(
        `req-${n}`,
        { creditsUsed: 10, delivery: 'attachment via reply', actualSeconds: 29.9 },
        now + 100,
      );
    }
    await tracks.markDeleted('req-2', moderator, now + 200);

    const page = await tracks.recent(guild, 0, 2);
    expect(page.total).toBe(3);
    expect(page.tracks.map((t) => [t.track.trackNumber, t.parent?.trackNumber ?? null])).toEqual([
      [3, 1],
      [2, 1],
    ]);
    const remix = await tracks.byNumber(guild, 2);
    expect(remix?.track).toMatchObject({ kind: 'remix', deletedBy: moderator, actualSeconds: 29.9 });
    expect(remix?.parent).toEqual({ id: 'req-1', trackNumber: 1, userId: '200000000000000042' });
    expect((await tracks.children('req-1')).map((c) => c.trackNumber)).toEqual([2, 3]);
    expect(await tracks.byNumber(guild, 4)).toBeUndefined();
  });

  it('ten simultaneous lyrics drafts with lyrics-daily 2 make exactly 2, and draft credits join the month', async () => {
    const { db } = await open();
    await createSettingsRepository(db).update(guild, { lyricsDaily: 2 }, moderator, now);
    const draft = (n: number) => ({
      id: `draft-${n}`,
      guildId: guild,
      channelId: '100000000000000002',
      userId: '200000000000000042',
      memberRoleIds: [],
      idea: `idea ${n}`,
      style: null,
      now: now + n,
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reserveDraft(db, draft(i))));
    expect(results.filter((r) => r.allowed)).toHaveLength(2);
    expect(new Set(results.flatMap((r) => (r.allowed ? [] : [r.limit])))).toEqual(new Set(['lyrics-daily']));
    const songwriting = createSongwritingRepository(db);
    const [first, second] = await db.selectFrom('lyrics_drafts').select('id').orderBy('id').execute();
    await songwriting.finishDraft(first!.id, { status: 'drafted', lyrics: '[Verse]\nx', creditsUsed: 7 });
    // A failed draft gives the allowance back.
    await songwriting.finishDraft(second!.id, { status: 'failed', lyrics: null, creditsUsed: 0 });
    expect((await reserveDraft(db, draft(20))).allowed).toBe(true);
    await reserveSlot(db, request(1));
    await createUsageRepository(db).markCompleted('req-1', { creditsUsed: 10, delivery: 'x' }, now + 100);
    expect(await createUsageRepository(db).creditsGuildSince(guild, now - 1000)).toBe(17);
    const snapshot = await guildUsage(db, guild, { dayStart: now - 1000, monthStart: now - 1000 });
    expect(snapshot.guildCreditsThisMonth).toBe(17);
  });

  it("keeps personal defaults per member and server, and the server's favourite styles", async () => {
    const { db } = await open();
    const songwriting = createSongwritingRepository(db);
    expect(await songwriting.prefs(guild, 'u1')).toEqual({
      lengthSeconds: null,
      vocals: null,
      styleSuffix: null,
    });
    await songwriting.setPrefs(guild, 'u1', { lengthSeconds: 60 }, now);
    expect(await songwriting.setPrefs(guild, 'u1', { vocals: 'instrumental' }, now)).toEqual({
      lengthSeconds: 60,
      vocals: 'instrumental',
      styleSuffix: null,
    });
    expect(await songwriting.prefs('100000000000000009', 'u1')).toMatchObject({ lengthSeconds: null });
    expect(await songwriting.resetPrefs(guild, 'u1')).toBe(true);
    expect(await songwriting.resetPrefs(guild, 'u1')).toBe(false);

    for (const [n, style] of [
      [1, 'Jazz'],
      [2, 'Blues'],
      [3, 'Blues'],
    ] as const) {
      await reserveSlot(db, request(n, { song: { style } }));
    }
    await reserveSlot(db, request(4, { now: now - 40 * 24 * 3600 * 1000, song: { style: 'Old' } }));
    expect(await createTracksRepository(db).topStyles(guild, now - 30 * 24 * 3600 * 1000, 25)).toEqual([
      'Blues',
      'Jazz',
    ]);
  });
});

describe('store URLs', () => {
  it('explains a DATABASE_URL it cannot use', async () => {
    await expect(openDatabase({ url: 'postgres://[not-a-host', dataDir: dir })).rejects.toBeInstanceOf(
      DatabaseUrlError,
    );
    await expect(openDatabase({ url: 'sqlite://relative.db', dataDir: dir })).rejects.toThrow(
      /absolute path/,
    );
    await expect(openDatabase({ url: 'mysql://h/db', dataDir: dir })).rejects.toThrow(/not supported/);
  });

  it('defaults to tracksmith.sqlite under DATA_DIR', async () => {
    store = await openDatabase({ url: undefined, dataDir: join(dir, 'data') });
    expect(store.location).toBe(join(dir, 'data', 'tracksmith.sqlite'));
  });
});
