import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isFinalEdit, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/log.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let harness: Harness | undefined;
let database: TestDatabase | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  await database?.drop();
  database = undefined;
});

const ada = { id: '200000000000000101', username: 'ada' };
const ben = { id: '200000000000000102', username: 'ben' };

describe('the bot on PostgreSQL', () => {
  it('makes, numbers and regenerates tracks, and keeps them through a restart', async () => {
    database = await createTestDatabase();
    const h = (harness = await startHarness({ env: { DATABASE_URL: database.url } }));
    expect(h.app.database.location).toMatch(/^postgres:\/\/127\.0\.0\.1:5432\/tracksmith_test_/);

    const first = h.discord.chatInput({
      name: 'music',
      user: ada,
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'postgres polka' }],
    });
    await h.discord.waitForRequest(isFinalEdit(first.token));
    const message = h.discord.originalResponse(first.token)!;
    const regenerate = (message.components as { components: { label: string; custom_id: string }[] }[])
      .flatMap((row) => row.components)
      .find((c) => c.label === 'Regenerate')!;
    const again = h.discord.button({ user: ben, customId: regenerate.custom_id, message });
    const final = await h.discord.waitForRequest(isFinalEdit(again.token));
    expect((final.body as { embeds: { title: string }[] }).embeds[0]?.title).toBe('🎵 Track #2');

    await eventually(async () => {
      const rows = await h.app.database.db.selectFrom('usage').select('status').execute();
      return rows.length === 2 && rows.every((r) => r.status === 'completed');
    });
    await h.restart();
    const rows = await h.app.database.db
      .selectFrom('usage')
      .select(['track_number', 'kind', 'user_id', 'requested_at', 'generation_ms'])
      .orderBy('track_number')
      .execute();
    expect(rows.map((r) => [r.track_number, r.kind, r.user_id])).toEqual([
      [1, 'music', ada.id],
      [2, 'regenerate', ben.id],
    ]);
    // 64-bit columns come back as numbers, as on SQLite.
    expect(typeof rows[0]?.requested_at).toBe('number');
    expect(typeof rows[0]?.generation_ms).toBe('number');
  });
});
