import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/discord.js';
import { music, user } from '../support/commands.js';
import { isFinalEdit, startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';
import { eventually } from '../support/log.js';

/**
 * A queue step that throws is tried again, further apart each time; these tests shorten the
 * allowance to 3 tries from 20 ms so that running out of it takes a moment, not half an hour.
 */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(env: Record<string, string> = {}): Promise<Harness> {
  harness = await startHarness({ redis: true, env, app: { queueRetry: { attempts: 3, firstDelayMs: 20 } } });
  return harness;
}

const rename = (h: Harness, from: string, to: string) =>
  sql`alter table ${sql.table(from)} rename to ${sql.table(to)}`.execute(h.app.database.db);

const ledgerRow = (h: Harness, prompt: string) =>
  h.app.database.db.selectFrom('usage').selectAll().where('prompt', '=', prompt).executeTakeFirstOrThrow();

const description = (r: RecordedRequest) =>
  (r.body as { embeds?: { description?: string }[] }).embeds?.[0]?.description;

const creates = (h: Harness) =>
  h.aiml.requests.filter((r) => r.route === 'create').map((r) => (r.body as { prompt: string }).prompt);

describe('a request whose queue steps keep failing', () => {
  it('is ended with a message once its tries run out, and leaves the line to the requests behind it', async () => {
    const h = await start({ MAX_CONCURRENT_GENERATIONS: '1' });
    h.aiml.script({ outcome: 'stuck' });
    const first = music(h.discord, 'holds the only slot', { user: user('200000000000000061') });
    await eventually(() => h.aiml.requests.some((r) => r.route === 'poll'));
    const second = music(h.discord, 'waits behind it', { user: user('200000000000000062') });
    await h.discord.waitForRequest(
      (r) => r.path.includes(second.token) && JSON.stringify(r.body).includes('waiting in line'),
    );

    // Each time the waiting request looks for a slot it reads its server's settings; now it cannot.
    await rename(h, 'guild_settings', 'guild_settings_away');
    const told = await h.discord.waitForRequest(isFinalEdit(second.token));
    await rename(h, 'guild_settings_away', 'guild_settings');

    expect(description(told)).toBe(
      'The bot kept hitting a fault on its side while making this track, and gave up. Please try again in a few minutes.',
    );
    await eventually(async () => (await ledgerRow(h, 'waits behind it')).status === 'failed');
    expect(h.logs.text()).toContain('giving up on a request whose steps kept failing');

    // It left the line: when the slot frees, a later request gets it rather than the one given up.
    const [generationId] = [...h.aiml.jobs.keys()];
    h.aiml.completeNow(generationId!);
    expect(
      (await h.discord.waitForRequest(isFinalEdit(first.token))).files.map((f) => f.contentType),
    ).toEqual(TRACK_FILE_TYPES);
    const third = music(h.discord, 'comes after', { user: user('200000000000000063') });
    expect(
      (await h.discord.waitForRequest(isFinalEdit(third.token))).files.map((f) => f.contentType),
    ).toEqual(TRACK_FILE_TYPES);
    expect(creates(h)).toEqual(['holds the only slot', 'comes after']);
    expect(h.discord.requests.filter(isFinalEdit(second.token))).toHaveLength(1);
  });

  it('is started over, not dropped, while the store stays down past its tries, and delivered once it is back', async () => {
    const h = await start();
    h.aiml.script({ outcome: 'stuck' });
    const request = music(h.discord, 'outlasts the outage', { user: user('200000000000000064') });
    await eventually(() => h.aiml.requests.some((r) => r.route === 'poll'));

    // Every step begins by reading the request from the ledger; with the table gone, each one throws.
    await rename(h, 'usage', 'usage_away');
    const startedOver = () =>
      h.logs.text().split('could not end a request whose steps kept failing; starting it over').length - 1;
    await eventually(() => startedOver() >= 2);
    await rename(h, 'usage_away', 'usage');

    const [generationId] = [...h.aiml.jobs.keys()];
    h.aiml.completeNow(generationId!);
    const final = await h.discord.waitForRequest(isFinalEdit(request.token));
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    await eventually(async () => (await ledgerRow(h, 'outlasts the outage')).status === 'completed');
    expect(creates(h)).toEqual(['outlasts the outage']);
    expect(h.discord.requests.filter(isFinalEdit(request.token))).toHaveLength(1);
  });
});
