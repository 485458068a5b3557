import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { createSettingsRepository } from '../../src/store/settings-repository.js';
import { createWebRepository, type WebRepository } from '../../src/store/web-repository.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { seedTracks } from '../support/seed-tracks.js';

const GUILD = '100000000000000001';
const OTHER = '100000000000000051';
const A = '200000000000000001';
const B = '200000000000000002';

describe.each(['sqlite', 'postgres'] as const)('the web side’s store on %s', (dialect) => {
  let dir: string;
  let pgDb: TestDatabase | undefined;
  let store: Database;
  let web: WebRepository;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracksmith-web-store-'));
    pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
    store = await openDatabase({ url: pgDb?.url ?? `sqlite://${join(dir, 'web.sqlite')}`, dataDir: dir });
    web = createWebRepository(store.db);
    await seedTracks(store.db, {
      guildId: GUILD,
      channelId: '1',
      users: [A, B],
      count: 12,
      start: 1_000_000,
    });
    await seedTracks(store.db, { guildId: OTHER, channelId: '2', users: [A], count: 3, start: 1_000_000 });
  });
  afterEach(async () => {
    await store.close();
    await pgDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pages a server’s tracks newest first, by member, with parents and media, never another server’s', async () => {
    const first = await web.gallery(GUILD, {}, 0, 5);
    expect(first.total).toBe(12);
    expect(first.tracks.map((t) => t.track.trackNumber)).toEqual([12, 11, 10, 9, 8]);
    // Every fifth is a remix of the one before.
    expect(first.tracks.find((t) => t.track.trackNumber === 10)?.parent).toEqual({
      trackNumber: 9,
      userId: B,
    });
    expect(first.tracks[0]?.media?.peaks?.split(',')).toHaveLength(160);
    const byB = await web.gallery(GUILD, { userId: B }, 0, 50);
    expect(byB.total).toBe(6);
    expect(byB.tracks.every((t) => t.track.userId === B && t.track.guildId === GUILD)).toBe(true);
    expect(await web.requesters(GUILD, 10)).toEqual([
      { userId: A, tracks: 6 },
      { userId: B, tracks: 6 },
    ]);
    expect((await web.gallery(OTHER, {}, 0, 50)).total).toBe(3);
  });

  it('finds a track’s whole family within its server', async () => {
    const family = await web.family(GUILD, `seed-${GUILD}-5`);
    expect(family.map((f) => f.trackNumber).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([4, 5]);
    expect(await web.family(OTHER, `seed-${GUILD}-5`)).toEqual([]);
  });

  it('counts tracks and credits by UTC day and ranks members', async () => {
    const days = await web.dailyUsage(GUILD, 0);
    expect(days).toEqual([{ day: 0, tracks: 12, credits: 1440 }]);
    expect(await web.topMembers(GUILD, 0, 1)).toEqual([{ userId: A, tracks: 6, credits: 720 }]);
  });

  it('keeps a fresh link, and sessions by a hash of their ID that end on sign-out or expiry', async () => {
    await web.rememberFreshUrl(`seed-${GUILD}-1`, 'https://cdn.example/x?ex=1', 5_000);
    expect(await web.media(`seed-${GUILD}-1`)).toMatchObject({
      freshUrl: 'https://cdn.example/x?ex=1',
      freshUntil: 5_000,
    });
    await web.createSession(
      'secret-id',
      { userId: A, userName: 'Ada', guildIds: [GUILD, OTHER], expiresAt: 10_000 },
      1_000,
    );
    expect(await web.session('secret-id', 2_000)).toEqual({
      userId: A,
      userName: 'Ada',
      guildIds: [GUILD, OTHER],
      expiresAt: 10_000,
    });
    expect(await web.session('secret-id', 10_000)).toBeUndefined();
    const rows = await store.db.selectFrom('web_sessions').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('secret-id');
    await web.endSession('secret-id');
    expect(await web.session('secret-id', 2_000)).toBeUndefined();
  });

  it('records where each settings change was made', async () => {
    const settings = createSettingsRepository(store.db);
    await settings.update(GUILD, { userDaily: 3 }, A, 1_000, 'web');
    await settings.update(GUILD, { userDaily: 4 }, A, 2_000);
    expect((await settings.recentChanges(GUILD, 5)).map((c) => [c.newValue, c.source])).toEqual([
      ['4', 'discord'],
      ['3', 'web'],
    ]);
  });
});
