import { ApplicationCommandOptionType, MessageFlags } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeGuild, RecordedRequest } from '../fakes/discord.js';
import { makeMp3, toneHz } from '../fakes/mp3.js';
import type { HeardSegment } from '../fakes/voice.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { FakeVoiceServer } from '../fakes/voice.js';
import { startSharedServices } from '../support/cluster.js';
import { fastOptions, startHarness, type Harness } from '../support/harness.js';
import { captureLogs } from '../support/log.js';

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

/** The fakes a test drives, whether from the harness or a cluster of its own. */
type Peers = Pick<Harness, 'discord' | 'voice'>;

function listen(h: Peers, sub: string, user = starter, permissions = '0') {
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
  h: Peers,
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

async function startListening(h: Peers) {
  const interaction = listen(h, 'start');
  const answer = await answerOf(h, interaction);
  expect(answer.ephemeral).toBe(false);
  expect(answer.content).toContain(`<#${voiceChannel}>`);
  // A session that became ready after this request, even if it has ended since (a short idle timer).
  const sentAt = h.discord.dispatched.find((d) => d.id === interaction.id)!.at;
  await h.voice!.waitFor(
    () => h.voice!.sessions.find((s) => s.guildId === guildId && (s.readyAt ?? 0) >= sentAt),
    'a voice session',
  );
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

  it('skips within two seconds for a member in the channel, and refuses one outside it', async () => {
    const h = await start();
    await startListening(h);
    await deliverTone(h, TONES[0], 20);
    await deliverTone(h, TONES[1], 3);
    await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
    await upNext(h, 1);

    const refused = await answerOf(h, listen(h, 'skip', outsider));
    expect(refused).toEqual({ ephemeral: true, content: `Join <#${voiceChannel}> to skip.` });

    const skip = listen(h, 'skip', listener);
    const sentAt = h.discord.dispatched.find((d) => d.id === skip.id)!.at;
    expect(await answerOf(h, skip)).toEqual({
      ephemeral: false,
      content: `⏭️ <@${listener.id}> skipped a track.`,
    });
    const next = await h.voice!.waitForTone(guildId, toneHz(TONES[1]), sentAt);
    // The first track was still sounding when the skip was sent (window edges are 200 ms apart).
    const first = h.voice!.tones(guildId).find((t) => Math.abs(t.hz - toneHz(TONES[0])) < 20);
    expect(first!.to).toBeGreaterThan(sentAt - 250);
    expect(next.from - sentAt).toBeLessThan(2_000);
    expect(order(h.voice!.tones(guildId))).toEqual([toneHz(TONES[0]), toneHz(TONES[1])]);
  });

  it('stops within two seconds for the starter or a moderator, and for no one else', async () => {
    const h = await start();
    await startListening(h);
    await deliverTone(h, TONES[0], 20);
    await h.voice!.waitForTone(guildId, toneHz(TONES[0]));

    const refused = await answerOf(h, listen(h, 'stop', listener));
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toBe(`Only <@${starter.id}>, who started listening, or a moderator can stop it.`);

    const stop = listen(h, 'stop', moderator, String(1 << 5)); // Manage Server
    const sentAt = h.discord.dispatched.find((d) => d.id === stop.id)!.at;
    expect((await answerOf(h, stop)).content).toBe(
      `⏹️ <@${moderator.id}> stopped listening in <#${voiceChannel}>.`,
    );
    const leave = await h.discord.waitForVoiceRequest((r) => r.channelId === null && r.at >= sentAt);
    expect(leave.at - sentAt).toBeLessThan(2_000);
    const session = await h.voice!.waitFor(
      () => h.voice!.sessions.find((s) => s.closedAt !== undefined),
      'the voice session to close',
    );
    expect(session.closedAt! - sentAt).toBeLessThan(2_000);
    // Listening again works at once.
    await startListening(h);
  });

  it('refuses privately, without moving, a member in no voice channel, a channel it may not join or speak in, and a second channel', async () => {
    const h = await start();
    const notInVoice = await answerOf(h, listen(h, 'start', outsider));
    expect(notInVoice).toEqual({
      ephemeral: true,
      content: 'Join a voice channel first, then run `/listen start` again.',
    });
    const notListening = await answerOf(h, listen(h, 'skip', starter));
    expect(notListening.content).toContain('not listening in a voice channel here');

    const noConnect = await answerOfWhenSeen(h, outsider.id, closedVoice);
    expect(noConnect.ephemeral).toBe(true);
    expect(noConnect.content).toContain('lacks the Connect permission');
    expect(noConnect.content).toContain(`<#${closedVoice}>`);

    const noSpeak = await answerOfWhenSeen(h, outsider.id, mutedVoice);
    expect(noSpeak.content).toContain('lacks the Speak permission');
    expect(h.discord.voiceRequests).toEqual([]);

    await startListening(h);
    const second = await answerOf(h, listen(h, 'start', elsewhere));
    expect(second.ephemeral).toBe(true);
    expect(second.content).toContain(`already listening in <#${voiceChannel}>`);
    expect(h.discord.voiceRequests.filter((r) => r.channelId !== null)).toHaveLength(1);
  });

  it('queues any earlier track with Play in voice, refused when not listening or when the clicker is not in the channel', async () => {
    const h = await start();
    const old = await deliverTone(h, TONES[2], 2);
    const button = old.components as { components: { custom_id: string; label: string }[] }[];
    const customId = button
      .flatMap((row) => row.components)
      .find((c) => c.label === 'Play in voice')!.custom_id;

    const early = await answerOf(h, h.discord.button({ customId, message: old, user: listener }));
    expect(early).toEqual({
      ephemeral: true,
      content: 'Tracksmith is not listening in a voice channel here. Start with `/listen start`.',
    });

    await startListening(h);
    const outside = await answerOf(h, h.discord.button({ customId, message: old, user: outsider }));
    expect(outside).toEqual({ ephemeral: true, content: `Join <#${voiceChannel}> to queue tracks.` });

    const queued = await answerOf(h, h.discord.button({ customId, message: old, user: listener }));
    expect(queued.ephemeral).toBe(true);
    expect(queued.content).toBe('Playing it now.');
    await h.voice!.waitForTone(guildId, toneHz(TONES[2]));

    const view = await answerOf(h, listen(h, 'queue', outsider));
    expect(view.ephemeral).toBe(true);
    expect(view.content).toContain(`▶️ Now: #1 “tone ${TONES[2]}”, asked for by <@${listener.id}>`);

    // Whoever started may stop, from anywhere.
    h.discord.setVoiceState(guildId, starter.id, null);
    const stopped = await answerOf(h, listen(h, 'stop', starter));
    expect(stopped).toEqual({
      ephemeral: false,
      content: `⏹️ <@${starter.id}> stopped listening in <#${voiceChannel}>.`,
    });
    await h.discord.waitForVoiceRequest((r) => r.channelId === null);
  });

  it('leaves by itself when alone in the channel, and says so', async () => {
    const h = await start({ app: { voice: { aloneMs: 300 } } });
    await startListening(h);
    h.discord.setVoiceState(guildId, listener.id, null);
    h.discord.setVoiceState(guildId, starter.id, otherVoice);
    const left = await h.discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${textChannel}/messages`,
    );
    expect(bodyOf(left).content).toBe(
      `👋 Left <#${voiceChannel}>: no one else was in the channel for a minute. \`/listen start\` starts again.`,
    );
    await h.discord.waitForVoiceRequest((r) => r.channelId === null);
  });

  it('leaves when idle with an empty queue, and says so', async () => {
    const h = await start({ app: { voice: { idleMs: 300 } } });
    await startListening(h);
    const left = await h.discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${textChannel}/messages`,
    );
    expect(bodyOf(left).content).toContain('nothing was queued for ten minutes');
  });

  it('survives being kicked from the channel: cleans up, and the next /listen start works', async () => {
    const h = await start();
    await startListening(h);
    h.discord.kickBotFromVoice(guildId);
    const left = await h.discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${textChannel}/messages`,
    );
    expect(bodyOf(left).content).toContain('disconnected from the channel');
    await startListening(h);
    await deliverTone(h, TONES[0], 2);
    await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
  });

  it('rides out a dropped voice connection: it resumes and the track plays on', async () => {
    const h = await start();
    await startListening(h);
    await deliverTone(h, TONES[0], 4);
    const heard = await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
    h.voice!.dropConnections(guildId);
    await h.voice!.waitFor(() => (h.voice!.resumes > 0 ? true : undefined), 'a resume');
    // Sound again after the resume, still the same track, on the same session.
    const resumedAt = Date.now();
    await h.voice!.waitFor(
      () => h.voice!.tones(guildId).find((s) => s.to >= resumedAt && Math.abs(s.hz - heard.hz) < 20),
      'the track after the resume',
    );
    expect(h.voice!.sessions).toHaveLength(1);
    expect(h.discord.voiceRequests.filter((r) => r.channelId === null)).toEqual([]);
  });

  it('follows when moved to another channel: keeps playing, and the new channel is where members must be', async () => {
    const h = await start();
    await startListening(h);
    await deliverTone(h, TONES[0], 20);
    await deliverTone(h, TONES[1], 2);
    await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
    await upNext(h, 1);
    h.discord.moveBotInVoice(guildId, otherVoice);
    await h.discord.waitForRequest(
      (r) =>
        r.method === 'PATCH' &&
        r.path.startsWith(`/channels/${textChannel}/messages/`) &&
        (bodyOf(r).content ?? '').includes(`Listening in <#${otherVoice}>`),
    );
    expect((await answerOf(h, listen(h, 'skip', listener))).content).toBe(`Join <#${otherVoice}> to skip.`);
    const skip = listen(h, 'skip', elsewhere);
    expect((await answerOf(h, skip)).content).toContain('skipped a track');
    await h.voice!.waitForTone(guildId, toneHz(TONES[1]));
    expect(h.discord.voiceRequests.filter((r) => r.channelId === null)).toEqual([]);
  });

  it('after a restart rejoins the channel and plays the rest of the queue', async () => {
    const h = await start({ fileStore: true });
    await startListening(h);
    await deliverTone(h, TONES[0], 20);
    await deliverTone(h, TONES[1], 2);
    await h.voice!.waitForTone(guildId, toneHz(TONES[0]));
    await upNext(h, 1);
    const sessionsBefore = h.voice!.sessions.length;

    await h.restart();
    const rejoined = await h.voice!.waitFor(
      () => h.voice!.sessions.slice(sessionsBefore).find((s) => s.readyAt !== undefined),
      'a new voice session',
    );
    // The interrupted track plays again from its start, then the one after it.
    const again = await h.voice!.waitForTone(guildId, toneHz(TONES[0]), rejoined.readyAt);
    expect(again.from).toBeGreaterThanOrEqual(rejoined.readyAt!);
    h.discord.setVoiceState(guildId, listener.id, voiceChannel);
    const skip = listen(h, 'skip', listener);
    expect((await answerOf(h, skip)).content).toContain('skipped a track');
    await h.voice!.waitForTone(guildId, toneHz(TONES[1]), again.from);
  });
});

describe('/listen with a gateway and a worker', () => {
  it('plays a track that a worker delivered: the delivery reaches the gateway through Redis', async () => {
    const voice = await FakeVoiceServer.start();
    const services = await startSharedServices({
      guilds: [guild],
      redis: true,
      voice,
      aiml: { generationMs: 0 },
    });
    const apps: App[] = [];
    try {
      for (const role of ['gateway', 'worker'] as const) {
        const config = loadConfig({ ...services.env, ROLE: role, LOG_LEVEL: 'debug' });
        const app = await createApp(config, { ...fastOptions, logger: captureLogs().logger });
        apps.push(app);
        await app.start();
      }
      expect(apps[1]?.voice).toBeUndefined();
      await startListening({ discord: services.discord, voice });
      services.aiml.script({ audio: makeMp3({ seconds: 2, toneLine: TONES[1] }) });
      services.discord.chatInput({
        name: 'music',
        user: outsider,
        channelId: textChannel,
        options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'from a worker' }],
      });
      await voice.waitForTone(guildId, toneHz(TONES[1]));
    } finally {
      for (const app of apps.reverse()) await app.stop();
      await Promise.all([services.close(), voice.close()]);
    }
  });
});

/** Waits until the now-playing line counts `n` tracks after the one playing: they are in the queue. */
async function upNext(h: Harness, n: number) {
  const text = `Up next: ${n} track${n > 1 ? 's' : ''}.`;
  await h.discord.waitForRequest(
    (r) =>
      r.method === 'PATCH' &&
      r.path.startsWith(`/channels/${textChannel}/messages/`) &&
      (bodyOf(r).content ?? '').includes(text),
  );
}

/** Moves `userId` into `channelId`, waits until the bot has seen it, then asks to start there. */
async function answerOfWhenSeen(h: Harness, userId: string, channelId: string) {
  h.discord.setVoiceState(guildId, userId, channelId);
  const client = h.app.client!;
  await new Promise<void>((resolve) => {
    const check = () => {
      if (client.guilds.cache.get(guildId)?.voiceStates.cache.get(userId)?.channelId === channelId) {
        client.off('voiceStateUpdate', check);
        resolve();
      }
    };
    client.on('voiceStateUpdate', check);
    check();
  });
  return answerOf(h, listen(h, 'start', { id: userId, username: 'outsider' }));
}
