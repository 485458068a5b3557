import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AimlFault } from '../fakes/aiml.js';
import type { RecordedRequest } from '../fakes/discord.js';
import { startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';

/**
 * The provider and CDN rows of the fault table, end to end: each fault is injected on the wire and
 * the member must still get the track, or one clear sentence.
 */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function run(setup: (h: Harness) => void) {
  const h = (harness = await startHarness({ aiml: { generationMs: 200 } }));
  setup(h);
  const interaction = h.discord.chatInput({
    name: 'music',
    user: { id: '200000000000000042', username: 'riffmaker' },
    options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'fault table' }],
  });
  const final = await h.discord.waitForRequest(
    (r: RecordedRequest) =>
      r.path.includes(interaction.token) &&
      ((r.body as { embeds?: unknown[] } | undefined)?.embeds?.length ?? 0) > 0,
  );
  const embed = (final.body as { embeds: { title: string; description?: string }[] }).embeds[0];
  return { h, final, embed };
}

describe('fault table: status checks recover', () => {
  it.each([
    ['a network error', { network: true, times: 2 }],
    ['503s', { status: 503, body: { statusCode: 503, message: 'down' }, times: 3 }],
    ['a 429 without Retry-After', { status: 429, body: { statusCode: 429, message: 'slow down' } }],
    ['a 429 with Retry-After', { status: 429, body: { statusCode: 429 }, headers: { 'retry-after': '1' } }],
    ['malformed JSON', { status: 200, rawBody: '{"id": "x", "status": "gene' }],
    ['a body that fails validation', { status: 200, body: { id: 42, status: null } }],
  ] satisfies [string, AimlFault][])('%s on a status check', async (_name, fault: AimlFault) => {
    const { h, final, embed } = await run((h) => h.aiml.failNext('poll', fault));
    expect(embed?.title).toMatch(/^🎵 Track #\d+$/);
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    const polls = h.aiml.requests.filter((r) => r.route === 'poll');
    expect(polls.length).toBeGreaterThan(fault.times ?? 1);
  });
});

describe('fault table: the file server', () => {
  it('a download slower than its timeout ends with a clear message', async () => {
    const { embed } = await run((h) => h.aiml.script({ cdn: { stallMs: 5_000 } }));
    expect(embed?.description).toBe(
      'The track was made, but downloading it took too long. Please try again later.',
    );
  });

  it('a file server error is retried, then the file arrives', async () => {
    const { h, final } = await run((h) => h.aiml.failNext('cdn', { status: 502, rawBody: 'bad gateway' }));
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    expect(h.aiml.requests.filter((r) => r.route === 'cdn').map((r) => r.status)).toEqual([502, 200]);
  });
});
