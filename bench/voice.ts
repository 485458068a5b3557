import { fileURLToPath } from 'node:url';
import { ApplicationCommandOptionType } from 'discord.js';
import { FakeAiml } from '../test/fakes/aiml.js';
import { FakeDiscord, type FakeGuild } from '../test/fakes/discord.js';
import { makeMp3, toneHz } from '../test/fakes/mp3.js';
import { FakeVoiceServer, VOICE_TLS_CERT } from '../test/fakes/voice.js';
import { forkChild, isFinalEdit, type BenchChild, type ProcessReport } from './fixtures.js';
import { sleep } from './support.js';

/**
 * Listening in voice: the bot in its own process, the fake Discord, the fake AIML API and the fake
 * voice server (TLS, UDP, decryption, Opus decoding) in this one. Measures the join time
 * (`/listen start` sent → voice session ready at the voice server), the silence a listener hears
 * between two tracks, and the bot's CPU (% of one core) and resident memory while idle, with one
 * server playing, and with several, from which the cost per playing server follows.
 */
export interface VoiceRow {
  state: string;
  playing: number;
  cpuPctOfCore: number;
  rssMiB: number;
  cpuPctPerServer: number | string;
  rssMiBPerServer: number | string;
  joinMs: number | string;
  gapMs: number | string;
}

const textOf = (i: number) => `1100000000000${String(20_000 + i)}`;
const voiceOf = (i: number) => `1200000000000${String(20_000 + i)}`;
const guildOf = (i: number) => `1000000000000${String(20_000 + i)}`;
const memberOf = (i: number) => `2100000000000${String(20_000 + i)}`;

function voiceGuilds(count: number): FakeGuild[] {
  return Array.from({ length: count }, (_, i) => ({
    id: guildOf(i),
    channels: [
      { id: textOf(i), name: 'music', type: 0 },
      { id: voiceOf(i), name: 'Lounge', type: 2 },
    ],
    voiceStates: [{ userId: memberOf(i), channelId: voiceOf(i) }],
  }));
}

/** CPU % of one core and resident memory over `ms` of wall time. */
async function sample(child: BenchChild, ms: number): Promise<{ cpuPct: number; rssMiB: number }> {
  const before: ProcessReport = await child.report();
  const started = performance.now();
  await sleep(ms);
  const after: ProcessReport = await child.report();
  const wall = performance.now() - started;
  return { cpuPct: ((after.cpuMs - before.cpuMs) / wall) * 100, rssMiB: after.rssMiB ?? after.peakRssMiB };
}

export async function voiceBench(options: { servers: number; windowMs: number }): Promise<VoiceRow[]> {
  const { servers, windowMs } = options;
  const voice = await FakeVoiceServer.start();
  const discord = await FakeDiscord.start({ guilds: voiceGuilds(servers), voice });
  const aiml = await FakeAiml.start({ generationMs: 0, queuedMs: 0 });
  // Trusted the way an operator would trust a private CA.
  const child = await forkChild('./bot-process.ts', {
    DISCORD_TOKEN: discord.token,
    AIML_API_KEY: aiml.apiKey,
    AIML_API_URL: aiml.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    DATABASE_URL: 'sqlite::memory:',
    NODE_EXTRA_CA_CERTS: fileURLToPath(VOICE_TLS_CERT),
    BENCH_SCALE: '0.05',
  });
  const deliver = async (server: number, line: number, seconds: number) => {
    aiml.script({ audio: makeMp3({ seconds, toneLine: line }), generationMs: 0 });
    const sent = discord.chatInput({
      name: 'music',
      guildId: guildOf(server),
      channelId: textOf(server),
      user: { id: memberOf(server), username: 'member' },
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: `tone ${line}` }],
    });
    await discord.waitForRequest(isFinalEdit(sent.token), 60_000);
  };
  const listen = async (server: number) => {
    const sent = discord.chatInput({
      name: 'listen',
      guildId: guildOf(server),
      channelId: textOf(server),
      user: { id: memberOf(server), username: 'member' },
      options: [{ name: 'start', type: ApplicationCommandOptionType.Subcommand, options: [] }],
    });
    const at = discord.dispatched.find((d) => d.id === sent.id)?.at ?? Date.now();
    const session = await voice.waitFor(
      () => voice.sessions.find((s) => s.guildId === guildOf(server) && s.readyAt !== undefined),
      'a voice session',
      30_000,
    );
    return (session.readyAt ?? at) - at;
  };
  try {
    await sleep(1_000); // let start-up settle
    const idle = await sample(child, windowMs);
    const rows: VoiceRow[] = [
      {
        state: 'idle (connected to Discord, not in voice)',
        playing: 0,
        cpuPctOfCore: idle.cpuPct,
        rssMiB: idle.rssMiB,
        cpuPctPerServer: '',
        rssMiBPerServer: '',
        joinMs: '',
        gapMs: '',
      },
    ];

    // One server: two tracks back to back, the first long enough to measure over.
    const firstSeconds = Math.ceil(windowMs / 1000) + 4;
    const joinMs = await listen(0);
    await deliver(0, 11, firstSeconds);
    await deliver(0, 23, 60);
    const first = await voice.waitForTone(guildOf(0), toneHz(11), 0, 30_000);
    const one = await sample(child, windowMs);
    const second = await voice.waitForTone(guildOf(0), toneHz(23), first.from, 60_000);
    const gap = voice
      .silences(guildOf(0))
      .filter((s) => s.from >= first.from && s.to <= second.to)
      .reduce((longest, s) => Math.max(longest, s.to - s.from), 0);
    rows.push({
      state: 'playing in 1 server',
      playing: 1,
      cpuPctOfCore: one.cpuPct,
      rssMiB: one.rssMiB,
      cpuPctPerServer: one.cpuPct - idle.cpuPct,
      rssMiBPerServer: one.rssMiB - idle.rssMiB,
      joinMs,
      gapMs: gap,
    });

    // The rest join; each plays a long track while the first keeps playing its second one.
    const joins: number[] = [];
    for (let server = 1; server < servers; server++) {
      joins.push(await listen(server));
      await deliver(server, 35, 60);
    }
    for (let server = 1; server < servers; server++) {
      await voice.waitForTone(guildOf(server), toneHz(35), 0, 30_000);
    }
    const many = await sample(child, windowMs);
    rows.push({
      state: `playing in ${servers} servers`,
      playing: servers,
      cpuPctOfCore: many.cpuPct,
      rssMiB: many.rssMiB,
      cpuPctPerServer: (many.cpuPct - idle.cpuPct) / servers,
      rssMiBPerServer: (many.rssMiB - idle.rssMiB) / servers,
      joinMs: Math.max(...joins),
      gapMs: '',
    });
    if (voice.decryptFailures > 0) throw new Error(`${voice.decryptFailures} packets failed to decrypt`);
    return rows;
  } finally {
    await child.stop();
    await Promise.all([discord.close(), aiml.close(), voice.close()]);
  }
}
