import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type GuildSettings } from '../../src/domain/settings.js';
import { followGuildConcurrency } from '../../src/limits/guild-concurrency.js';
import { createSettingsService, type SettingsService } from '../../src/limits/settings-service.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { createSettingsRepository } from '../../src/store/settings-repository.js';

const guild = '100000000000000001';
const other = '100000000000000002';
const moderator = { userId: '200000000000000001', source: 'web' } as const;
const now = Date.UTC(2026, 10, 24, 12);

let store: Database;
let service: SettingsService;

beforeEach(async () => {
  store = await openDatabase({ url: 'sqlite::memory:', dataDir: '.' });
  service = createSettingsService({ repository: createSettingsRepository(store.db) });
});

afterEach(async () => {
  await store.close();
});

describe('settings service: changes are published to whoever keeps a copy', () => {
  it('tells every listener of a stored change or reset, and nobody of a refused one', async () => {
    const heard: [string, Pick<GuildSettings, 'concurrent' | 'userDaily'>][] = [];
    service.onChange((guildId, settings) =>
      heard.push([guildId, { concurrent: settings.concurrent, userDaily: settings.userDaily }]),
    );

    expect((await service.change(guild, { concurrent: 500 }, moderator, now)).ok).toBe(false);
    expect(heard).toEqual([]);

    await service.change(guild, { concurrent: 2, userDaily: 0 }, moderator, now);
    await service.reset(guild, moderator, now + 1);
    expect(heard).toEqual([
      [guild, { concurrent: 2, userDaily: null }],
      [guild, { concurrent: DEFAULT_SETTINGS.concurrent, userDaily: DEFAULT_SETTINGS.userDaily }],
    ]);
  });

  it('stops telling a listener that unsubscribed', async () => {
    const heard: number[] = [];
    const unsubscribe = service.onChange((_guildId, settings) => heard.push(settings.concurrent));
    await service.change(guild, { concurrent: 3 }, moderator, now);
    unsubscribe();
    await service.change(guild, { concurrent: 4 }, moderator, now + 1);
    expect(heard).toEqual([3]);
  });

  it("keeps the gate's copy of `concurrent` from changes, reservations and a load at start", async () => {
    await service.change(other, { concurrent: 7 }, moderator, now);
    const concurrency = followGuildConcurrency(service);
    expect(concurrency.of(guild)).toBe(DEFAULT_SETTINGS.concurrent);
    expect(concurrency.of(other)).toBe(DEFAULT_SETTINGS.concurrent);

    await service.change(guild, { concurrent: 2 }, moderator, now + 1);
    expect(concurrency.of(guild)).toBe(2);

    concurrency.seen(guild, { concurrent: 5 });
    expect(concurrency.of(guild)).toBe(5);

    // Stored before the copy existed: read when a resumed job's server is loaded.
    await concurrency.load([other, other]);
    expect(concurrency.of(other)).toBe(7);
  });
});
