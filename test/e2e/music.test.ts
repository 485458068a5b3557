import { InteractionResponseType, MessageFlags } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/discord.js';
import { makeMp3, makeNotAudio } from '../fakes/mp3.js';
import { PNG } from 'pngjs';
import { member, music, user } from '../support/commands.js';
import {
  handled,
  isCallback,
  isFinalEdit,
  isPictureEdit,
  startHarness,
  type Harness,
  TRACK_FILE_TYPES,
} from '../support/harness.js';
import { eventually } from '../support/log.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options?: Parameters<typeof startHarness>[0]): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

const isEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`);

type Body = {
  content?: string;
  flags?: number;
  allowed_mentions?: { parse?: string[] };
  embeds?: {
    title?: string;
    description?: string;
    fields?: { name: string; value: string }[];
    image?: { url: string };
  }[];
  components?: unknown[];
  type?: number;
  data?: { content?: string; flags?: number; allowed_mentions?: { parse?: string[] } };
};
const bodyOf = (r: RecordedRequest) => r.body as Body;

/** Waits for the edit that ends the job: the one with an embed (progress edits carry text only). */
async function finalEdit(h: Harness, token: string, timeoutMs = 10_000): Promise<RecordedRequest> {
  return h.discord.waitForRequest((r) => isEdit(token)(r) && (bodyOf(r).embeds?.length ?? 0) > 0, timeoutMs);
}

describe('/music end to end', () => {
  it('defers, generates and edits the same reply with the byte-identical MP3', async () => {
    const h = await start();
    const prompt = 'Dreamy synthwave with a slow build';
    const interaction = music(h.discord, prompt, { length: 12 });

    const callback = await h.discord.waitForRequest((r) =>
      r.path.startsWith(`/interactions/${interaction.id}/`),
    );
    expect(bodyOf(callback).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect((bodyOf(callback).data?.flags ?? 0) & MessageFlags.Ephemeral).toBe(0);

    const final = await finalEdit(h, interaction.token);
    const create = h.aiml.requests.find((r) => r.route === 'create');
    expect(create?.body).toEqual({ model: 'elevenlabs/eleven_music', prompt, music_length_ms: 12_000 });
    expect(create?.headers.authorization).toBe(`Bearer ${h.aiml.apiKey}`);

    const [job] = [...h.aiml.jobs.values()];
    expect(job?.status).toBe('completed');
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    expect(final.files[0]?.name).toBe('dreamy-synthwave-with-a-slow-build.mp3');
    expect(final.files[0]?.data.equals(job!.audio!)).toBe(true);

    const embed = bodyOf(final).embeds?.[0];
    // The track goes out first; its waveform follows in an edit of its own.
    expect(embed?.image).toBeUndefined();
    const pictureEdit = await h.discord.waitForRequest(isPictureEdit(interaction.token));
    const pictureBody = pictureEdit.body as Body & { attachments?: { id: string | number }[] };
    expect(pictureBody.embeds?.[0]).toEqual({ ...embed, image: { url: 'attachment://waveform.png' } });
    expect(pictureBody.components).toBeUndefined();
    const picture = PNG.sync.read(pictureEdit.files[0]!.data);
    expect([picture.width, picture.height]).toEqual([640, 120]);

    const message = h.discord.originalResponse(interaction.token)!;
    expect(message.attachments.map((a) => a.filename)).toEqual([
      'dreamy-synthwave-with-a-slow-build.mp3',
      'waveform.png',
    ]);
    // The mp3 stays the one first uploaded: the picture's edit keeps it by ID.
    expect(pictureBody.attachments?.[0]).toEqual({ id: message.attachments[0]!.id });
    expect(h.discord.attachmentData(message.attachments[0]!.id)?.equals(job!.audio!)).toBe(true);
    expect(message.embeds[0]).toMatchObject({ image: { url: 'attachment://waveform.png' } });
    expect(message.components).toEqual(bodyOf(final).components);
    expect(embed?.title).toBe('🎵 Track #1');
    expect(embed?.description).toBe(prompt);
    const fields = Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));
    expect(fields['Requested by']).toBe(`<@${member.id}>`);
    // The actual length is read from the delivered file: the fake CDN's mp3 lasts 12.0 s.
    expect(fields.Length).toBe('12 s requested · 12.0 s actual');
    expect(fields['Generated in']).toMatch(/^\d+\.\d s$/);
    expect(fields.Credits).toBe('120');
    // The buttons carry only the request's own ID.
    const row = await h.app.database.db.selectFrom('usage').select('id').executeTakeFirstOrThrow();
    expect(bodyOf(final).components).toEqual([
      {
        type: 1,
        components: ['Regenerate', 'Remix', 'Delete'].map((label): unknown =>
          expect.objectContaining({ type: 2, label, custom_id: `track:${label.toLowerCase()}:${row.id}` }),
        ),
      },
      {
        type: 1,
        components: [
          expect.objectContaining({ type: 2, label: 'Play in voice', custom_id: `voice:play:${row.id}` }),
        ],
      },
    ]);
    expect(bodyOf(final).allowed_mentions).toEqual({ parse: [] });

    // The generation ID contains ':' and '/', and must reach the provider intact.
    const polls = h.aiml.requests.filter((r) => r.route === 'poll');
    expect(polls.length).toBeGreaterThan(0);
    for (const poll of polls) expect(poll.query.get('generation_id')).toBe(job!.id);
  });

  it('draws a waveform only once the interactions in hand are acknowledged', async () => {
    const h = await start();
    const first = music(h.discord, 'drawn after the others');
    await h.discord.waitForRequest(isCallback(first.token));
    // The track's edit is applied at once and answered 600 ms later, so the bot is still posting
    // it when a second member's /music arrives; that one's acknowledgement is answered after 1.5 s.
    h.discord.holdNext({ match: isFinalEdit(first.token), ms: 600 });
    h.discord.holdNext({ match: isCallback(), ms: 1_500 });
    await h.discord.waitForRequest(isFinalEdit(first.token));
    const second = music(h.discord, 'answered first', { user: user('200000000000000043') });
    const callback = await h.discord.waitForRequest(isCallback(second.token));
    const picture = await h.discord.waitForRequest(isPictureEdit(first.token));
    // Posting went quiet long before; the picture waited for the acknowledgement's answer.
    expect(picture.at).toBeGreaterThanOrEqual(callback.at + 1_500);
  });

  it('records the waveform for the web gallery once it is on the message', async () => {
    const h = await start();
    const interaction = music(h.discord, 'glassy arpeggios', { length: 10 });
    await h.discord.waitForRequest(isPictureEdit(interaction.token));
    await eventually(async () => {
      const media = await h.app.database.db.selectFrom('track_media').selectAll().executeTakeFirst();
      return media?.peaks?.split(',').length === 160;
    });
    const media = await h.app.database.db.selectFrom('track_media').selectAll().executeTakeFirstOrThrow();
    const message = h.discord.originalResponse(interaction.token)!;
    expect([media.message_id, media.audio_url]).toEqual([message.id, message.attachments[0]!.url]);
  });

  it('keeps the track when Discord refuses the edit that adds its waveform', async () => {
    const h = await start();
    let token = '';
    h.discord.failNext({
      method: 'PATCH',
      path: /\/messages\/@original$/,
      status: 404,
      body: { message: 'Unknown Message', code: 10008 },
      match: (r) => isPictureEdit(token)(r),
    });
    const interaction = music(h.discord, 'deleted too soon', { length: 10 });
    token = interaction.token;
    const final = await finalEdit(h, token);
    await eventually(() => h.logs.text().includes('could not add the waveform'));
    const refused = h.discord.requests.find(isPictureEdit(token));
    expect(refused?.status).toBe(404);
    // One try: a message Discord says is gone stays gone.
    expect(h.discord.requests.filter(isPictureEdit(token))).toHaveLength(1);
    const message = h.discord.originalResponse(token)!;
    expect(message.attachments.map((a) => a.content_type)).toEqual(TRACK_FILE_TYPES);
    expect(message.embeds).toEqual(bodyOf(final).embeds);
    const media = await h.app.database.db.selectFrom('track_media').selectAll().executeTakeFirstOrThrow();
    expect([media.audio_url, media.peaks]).toEqual([message.attachments[0]!.url, null]);
    const row = await h.app.database.db.selectFrom('usage').select('status').executeTakeFirstOrThrow();
    expect(row.status).toBe('completed');
  });

  it('shows progress in the reply before the track is ready', async () => {
    const h = await start({ aiml: { generationMs: 600 } });
    const interaction = music(h.discord, 'ambient drones');
    const progress = await h.discord.waitForRequest(isEdit(interaction.token));
    expect(bodyOf(progress).content).toMatch(
      /^🎼 Generating a 30-second track for <@200000000000000042>, started <t:\d+:R>…$/,
    );
    expect(bodyOf(progress).allowed_mentions).toEqual({ parse: [] });
    await finalEdit(h, interaction.token);
  });

  it.each([
    [
      'a prompt over 2,000 characters',
      'x'.repeat(2143),
      30,
      'The prompt is 2,143 characters; the limit is 2,000.',
    ],
    ['a blank prompt', '    ', 30, 'The prompt is empty.'],
    ['a prompt of only invisible characters', '\u200b\u200d\u2060\ufeff\u200e ', 30, 'The prompt is empty.'],
    [
      'a length below the range',
      'ok',
      5,
      'The length must be a whole number of seconds from 10 to 300; got 5.',
    ],
    [
      'a length above the range',
      'ok',
      301,
      'The length must be a whole number of seconds from 10 to 300; got 301.',
    ],
    [
      'a length of the wrong type',
      'ok',
      '45',
      'The length must be a whole number of seconds from 10 to 300; got "45".',
    ],
  ])('refuses %s privately and never calls the provider', async (_case, prompt, length, message) => {
    const h = await start();
    const interaction = music(h.discord, prompt, { length });
    const callback = await h.discord.waitForRequest((r) =>
      r.path.startsWith(`/interactions/${interaction.id}/`),
    );
    expect(bodyOf(callback).type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(bodyOf(callback).data?.flags).toBe(MessageFlags.Ephemeral);
    expect(bodyOf(callback).data?.content).toContain(message);
    expect(bodyOf(callback).data?.allowed_mentions).toEqual({ parse: [] });
    // Handled to the end with nothing queued: nothing can reach the provider after this.
    await handled(h, interaction);
    expect(h.aiml.requests).toEqual([]);
  });

  it('passes on the provider error status with its message', async () => {
    const h = await start();
    h.aiml.script({ outcome: 'error', errorMessage: 'The model could not follow the requested structure.' });
    const interaction = music(h.discord, 'a song in 17/8 time');
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]?.description).toBe(
      'The music service could not make this track: The model could not follow the requested structure.',
    );
    expect(final.files).toEqual([]);
  });

  it('retries a submission through two 503s and then delivers', async () => {
    const h = await start();
    h.aiml.failNext('create', {
      status: 503,
      body: { statusCode: 503, message: 'Service Unavailable' },
      times: 2,
    });
    const interaction = music(h.discord, 'sea shanty');
    const final = await finalEdit(h, interaction.token);
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    const creates = h.aiml.requests.filter((r) => r.route === 'create');
    expect(creates.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(h.aiml.jobs.size).toBe(1);
  });

  it('waits out a 429 for as long as Retry-After says', async () => {
    const h = await start();
    h.aiml.failNext('create', {
      status: 429,
      body: { statusCode: 429, message: 'Too Many Requests' },
      headers: { 'retry-after': '1' },
    });
    const interaction = music(h.discord, 'jazz trio');
    const final = await finalEdit(h, interaction.token);
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    const creates = h.aiml.requests.filter((r) => r.route === 'create');
    expect(creates.map((r) => r.status)).toEqual([429, 200]);
    expect(creates[1]!.at - creates[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('delivers a link with a note when the file is over the upload limit', async () => {
    const h = await start();
    const big = makeMp3({ seconds: 80 }); // ~1.3 MB at 128 kbps
    h.aiml.script({ audio: big });
    const interaction = music(h.discord, 'long ambient piece', {
      length: 80,
      attachmentSizeLimit: 1024 * 1024,
    });
    const final = await finalEdit(h, interaction.token);
    expect(final.files).toEqual([]);
    const [job] = [...h.aiml.jobs.values()];
    const download = bodyOf(final).embeds?.[0]?.fields?.find((f) => f.name === 'Download');
    expect(download?.value).toContain("over this server's 1 MiB upload limit, so here is a link instead:");
    expect(download?.value).toContain(job!.audioUrl!);
  });

  it('never pings anyone, even when the prompt is full of mentions', async () => {
    const h = await start();
    const prompt = '@everyone @here <@200000000000000099> <@&300000000000000001> anthem';
    const interaction = music(h.discord, prompt);
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]?.description).toContain('@everyone');
    const sent = h.discord.requests.filter(
      (r) => r.method !== 'GET' && (r.path.includes(interaction.token) || r.path.startsWith('/channels/')),
    );
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const request of sent) {
      const body = bodyOf(request);
      const mentions = body.allowed_mentions ?? body.data?.allowed_mentions;
      if (body.type === InteractionResponseType.DeferredChannelMessageWithSource) continue; // a deferral has no text
      expect(mentions, `${request.method} ${request.path}`).toEqual({ parse: [] });
    }
  });

  it.each([
    [
      'a rejected key',
      { status: 401, body: { statusCode: 401, message: 'Unauthorized' } },
      "rejected this bot's API key",
    ],
    [
      'an account out of credits',
      { status: 403, body: { statusCode: 403, message: 'Insufficient credits' } },
      'out of credits',
    ],
    [
      'a provider outage',
      { status: 502, rawBody: '<html>Bad Gateway</html>', times: 10 },
      'The music service is not responding right now.',
    ],
    [
      'a persistent rate limit',
      { status: 429, body: { statusCode: 429, message: 'Too Many Requests' }, times: 10 },
      'rate limiting the bot',
    ],
  ])('explains %s in plain words', async (_case, fault, text) => {
    const h = await start();
    h.aiml.failNext('create', fault);
    const interaction = music(h.discord, 'polka');
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]?.description).toContain(text);
    expect(h.aiml.jobs.size).toBe(0);
  });

  it('shows the provider’s reason when it refuses a prompt', async () => {
    const h = await start();
    const interaction = music(h.discord, 'a song that sounds exactly like Taylor Swift');
    const final = await finalEdit(h, interaction.token);
    const description = bodyOf(final).embeds?.[0]?.description ?? '';
    expect(description).toMatch(/^The music service refused this prompt: /);
    expect(description).toContain('Taylor Swift');
    expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);
  });

  it('stops waiting at GENERATION_TIMEOUT_SECONDS and says so', async () => {
    const h = await start({ env: { GENERATION_TIMEOUT_SECONDS: '1' } });
    h.aiml.script({ outcome: 'stuck' });
    const interaction = music(h.discord, 'endless drone');
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]?.description).toContain('took more than 1 second to make this track');
  });

  it.each([
    ['the file is gone from the CDN', { cdn: { status: 404 } }, 'its file has already gone'],
    ['the CDN serves something that is not audio', { audio: makeNotAudio(4096) }, 'is not an MP3'],
  ])('reports a failed download when %s', async (_case, script, text) => {
    const h = await start();
    h.aiml.script(script);
    const interaction = music(h.discord, 'bossa nova');
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]?.description).toContain(text);
    expect(final.files).toEqual([]);
  });

  it('gives the slot back and submits nothing when the deferral fails', async () => {
    const h = await start();
    h.discord.failNext({
      method: 'POST',
      path: /\/callback$/,
      status: 404,
      body: { message: 'Unknown interaction', code: 10062 },
    });
    const interaction = music(h.discord, 'too late');
    await eventually(() => h.logs.text().includes('handler failed'));
    const rows = await h.app.database.db.selectFrom('usage').selectAll().execute();
    expect(rows.map((r) => [r.status, r.error, r.interaction_token])).toEqual([
      ['failed', 'the interaction could not be acknowledged', null],
    ]);
    // Handled to the end with nothing queued: nothing can reach the provider after this.
    await handled(h, interaction);
    expect(h.aiml.requests).toEqual([]);
  });

  it('keeps secrets and interaction tokens out of the logs', async () => {
    const h = await start();
    const interaction = music(h.discord, 'chiptune');
    await finalEdit(h, interaction.token);
    await eventually(() => h.logs.text().includes('track delivered'));
    const text = h.logs.text();
    expect(text).toContain('"generationId"');
    for (const secret of [interaction.token, h.discord.token, h.aiml.apiKey])
      expect(text).not.toContain(secret);
    const delivered = h.logs.lines.find((l) => l.msg === 'track delivered');
    expect(delivered?.guildId).toBe('100000000000000001');
    expect(delivered?.generationId).toBe([...h.aiml.jobs.keys()][0]);
    // One request ID follows the request from the interaction to the delivery, and is its ledger row.
    const [row] = await h.app.database.db.selectFrom('usage').select('id').execute();
    const story = h.logs.lines.filter((l) => l.requestId === row?.id).map((l) => l.msg);
    expect(story).toEqual(
      expect.arrayContaining([
        'interaction received',
        'job accepted',
        'generation submitted',
        'generation completed',
        'track delivered',
      ]),
    );
    expect(story[0]).toBe('interaction received');
  });
});
