import { ApplicationCommandOptionType, MessageFlags } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeGuild, RecordedRequest } from '../fakes/discord.js';
import { makeMp3, toneHz } from '../fakes/mp3.js';
import type { HeardSegment } from '../fakes/voice.js';
import { startHarness, type Harness } from '../support/harness.js';

const guildId = '100000000000000001';
const textChannel = '100000000000000002';
const voiceChannel = '100000000000000003';
const otherVoice = '100000000000000004';
const closedVoice = '100000000000000005';
const mutedVoice = '100000000000000006';
const botId = '110000000000000001';

const starter = { id: '200000000000000011', username: 'starter' };
const listener = { id: '200000000000000012', username: 'listener' };
const outsider = { id: '200000000000000013', username: 'outsider' };
const elsewhere = { id: '200000000000000014', username: 'elsewhere' };
const moderator = { id: '200000000000000015', username: 'moderator' };

/** The bot's own member is denied Connect in one channel and Speak in another. */
const guild: FakeGuild = {
  id: guildId,
  name: 'Radio Guild',
  channels: [
    { id: textChannel, name: 'general', type: 0 },
    { id: voiceChannel, name: 'Lounge', type: 2 },
    { id: otherVoice, name: 'Studio', type: 2 },
    {
      id: closedVoice,
      name: 'Closed',
      type: 2,
      permission_overwrites: [{ id: botId, type: 1, allow: '0', deny: String(1 << 20) }],
    },
    {
      id: mutedVoice,
      name: 'Quiet',
      type: 2,
      permission_overwrites: [{ id: botId, type: 1, allow: '0', deny: String(1 << 21) }],
    },
  ],
  voiceStates: [
    { userId: starter.id, channelId: voiceChannel },
    { userId: listener.id, channelId: voiceChannel },
    { userId: elsewhere.id, channelId: otherVoice },
  ],
};

/** Track tones: spectral lines 11, 23 and 35 sound at about 440, 900 and 1359 Hz. */
const TONES = [11, 23, 35] as const;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness({ voice: true, discord: { guilds: [guild] }, ...options });
  return harness;
}

function listen(h: Harness, sub: string, user = starter, permissions = '0') {
  return h.discord.chatInput({
    name: 'listen',
    user,
    permissions,
    channelId: textChannel,
    options: [{ name: sub, type: ApplicationCommandOptionType.Subcommand, options: [] }],
  });
}

type Body = {
  type?: number;
  data?: { content?: string; flags?: number };
  content?: string;
  components?: { components?: { custom_id?: string; label?: string }[] }[];
};
const bodyOf = (r: RecordedRequest) => r.body as Body;

async function answerOf(
  h: Harness,
  interaction: { id: string },
): Promise<{ content: string; ephemeral: boolean }> {
  const callback = await h.discord.waitForRequest((r) =>
    r.path.startsWith(`/interactions/${interaction.id}/`),
  );
  const data = bodyOf(callback).data ?? {};
  return { content: data.content ?? '', ephemeral: ((data.flags ?? 0) & MessageFlags.Ephemeral) !== 0 };
}

/** Requests a track whose audio is a tone on `line`; resolves once it is delivered. */
async function deliverTone(h: Harness, line: number, seconds: number, user = outsider) {
  h.aiml.script({ audio: makeMp3({ seconds, toneLine: line }), generationMs: 0 });
  const interaction = h.discord.chatInput({
    name: 'music',
    user,
    channelId: textChannel,
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: `tone ${line}` },
      { name: 'length', type: ApplicationCommandOptionType.Integer, value: 10 },
    ],
  });
  await h.discord.waitForRequest(
    (r) =>
      r.method === 'PATCH' &&
      r.path.endsWith(`/${interaction.token}/messages/@original`) &&
      ((r.body as { embeds?: unknown[] }).embeds?.length ?? 0) > 0,
    15_000,
  );
  return h.discord.originalResponse(interaction.token)!;
}

/** Consecutive segments of the same tone merged: the order in which tracks were heard. */
function order(segments: HeardSegment[]): number[] {
  const heard: number[] = [];
  for (const segment of segments) {
    const near = TONES.map(toneHz).find((hz) => Math.abs(hz - segment.hz) < 20);
    if (near !== undefined && heard.at(-1) !== near) heard.push(near);
  }
  return heard;
}

async function startListening(h: Harness) {
  const interaction = listen(h, 'start');
  const answer = await answerOf(h, interaction);
  expect(answer.ephemeral).toBe(false);
  expect(answer.content).toContain(`<#${voiceChannel}>`);
  await h.voice!.waitFor(() => (h.voice!.connected(guildId) ? true : undefined), 'a voice session');
  return interaction;
}

describe('/listen: a voice-channel radio of the server’s new tracks', () => {
  it('joins the member’s channel over TLS with DAVE left on, and plays delivered tracks in delivery order, with the right audio', async () => {
    const h = await start();
    await startListening(h);
    const join = h.discord.voiceRequests[0]!;
    expect(join).toMatchObject({ guildId, channelId: voiceChannel, selfDeaf: true });
    const [session] = h.voice!.sessions;
    // The library offered DAVE (protocol version 1 or later); the fake answered with version 0.
    expect(session?.maxDaveProtocolVersion).toBeGreaterThanOrEqual(1);
    expect(session?.mode).toBe('aead_aes256_gcm_rtpsize');

    // Two members ask for tracks while outside voice: each is queued as it is delivered.
    const first = await deliverTone(h, TONES[0], 2);
    const second = await deliverTone(h, TONES[1], 2);
    const firstHeard = await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
    const secondHeard = await h.voice!.waitForTone(guildId, toneHz(TONES[1]), firstHeard.from);
    await h.voice!.waitFor(
      () => h.voice!.tones(guildId).find((s) => s.from >= secondHeard.from && s.to - s.from > 1_500),
      'the whole second track',
    );
    expect(order(h.voice!.tones(guildId))).toEqual([toneHz(TONES[0]), toneHz(TONES[1])]);
    expect(h.voice!.decryptFailures).toBe(0);

    // Each track card carries Play in voice on its own row.
    for (const message of [first, second]) {
      const labels = (message.components as Body['components'])?.flatMap((row) =>
        row.components?.map((c) => c.label),
      );
      expect(labels).toContain('Play in voice');
    }

    // The now-playing line is the /listen start reply, edited (not a message per track).
    const statusEdits = h.discord.requests.filter(
      (r) => r.method === 'PATCH' && r.path.startsWith(`/channels/${textChannel}/messages/`),
    );
    expect(new Set(statusEdits.map((r) => r.path)).size).toBe(1);
    expect(statusEdits.some((r) => /Now playing: track #1/.test(bodyOf(r).content ?? ''))).toBe(true);
    expect(statusEdits.some((r) => /Now playing: track #2/.test(bodyOf(r).content ?? ''))).toBe(true);
  });
});
