import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ApplicationCommandOptionType } from 'discord.js';
import { createApp, type App, type AppOptions } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { defaultSchedule } from '../src/generation/schedule.js';
import { createLogger } from '../src/log.js';
import { FakeAiml, type FakeAimlOptions } from '../test/fakes/aiml.js';
import { FakeDiscord, type FakeGuild } from '../test/fakes/discord.js';

/** Every time in a bench is multiplied by this, so minutes of service time run in seconds. */
export interface Scaled {
  scale: number;
}

/** `count` servers with one text channel each; many servers keep each under its own `concurrent`. */
export function guilds(count: number): FakeGuild[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `1000000000000${String(10_000 + i)}`,
    channels: [{ id: `1100000000000${String(10_000 + i)}`, name: 'music', type: 0 }],
  }));
}

/** The production schedule with every delay scaled; the target lag is in service seconds. */
export function scaledOptions(
  scale: number,
  targetLagSeconds = defaultSchedule.targetLagMs / 1000,
): AppOptions {
  return {
    logger: createLogger('silent'),
    schedule: {
      firstPollMs: 2_000 * scale,
      minIntervalMs: 1_000 * scale,
      maxIntervalMs: 8_000 * scale,
      targetLagMs: targetLagSeconds * 1_000 * scale,
      minGapMs: defaultSchedule.minGapMs * scale,
      maxBackoffMs: 60_000 * scale,
    },
    progressIntervalMs: 3_000 * scale,
    providerRetry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 500 },
    discordRest: { retries: 1, timeout: 30_000 },
  };
}

/** The fakes on loopback, and the bot's environment pointing at them. */
async function startFakes(guildCount: number, aimlOptions: FakeAimlOptions | undefined) {
  const discord = await FakeDiscord.start({ guilds: guilds(guildCount) });
  const aiml = await FakeAiml.start(aimlOptions);
  const env: Record<string, string> = {
    DISCORD_TOKEN: discord.token,
    AIML_API_KEY: aiml.apiKey,
    AIML_API_URL: aiml.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'silent',
    MAX_CONCURRENT_GENERATIONS: '10000',
  };
  return { discord, aiml, env };
}

export interface BotUnderTest {
  discord: FakeDiscord;
  aiml: FakeAiml;
  app: App;
  close(): Promise<void>;
}

/** The real bot, built by `createApp`, between a fake Discord and a fake AIML API on loopback. */
export async function startBot(options: {
  guildCount: number;
  env?: Record<string, string>;
  app?: AppOptions;
  aiml?: FakeAimlOptions;
}): Promise<BotUnderTest> {
  const { discord, aiml, env } = await startFakes(options.guildCount, options.aiml);
  const config = loadConfig({ ...env, ...options.env });
  const app = await createApp(config, options.app);
  await app.start();
  return {
    discord,
    aiml,
    app,
    async close() {
      await app.stop();
      await Promise.all([discord.close(), aiml.close()]);
    },
  };
}

/** Sends one `/music` as member `n` of server `n % guildCount`. */
export function musicFrom(
  bot: Pick<BotUnderTest, 'discord'>,
  n: number,
  guildCount: number,
  prompt: string,
  lengthSeconds: number,
): { id: string; token: string } {
  const guild = guilds(guildCount)[n % guildCount];
  return bot.discord.chatInput({
    name: 'music',
    user: { id: `2000000000${String(1_000_000 + n)}`, username: `member${n}` },
    ...(guild ? { guildId: guild.id } : {}),
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt },
      { name: 'length', type: ApplicationCommandOptionType.Integer, value: lengthSeconds },
    ],
  });
}

export { isFinalEdit } from '../test/support/harness.js';

export interface ProcessReport {
  peakRssMiB: number;
  /** Resident memory now (the bot process reports it; other children may not). */
  rssMiB?: number;
  cpuMs: number;
}

/** A child process that runs `script` and speaks the bench IPC: `ready`, `report`, `stop`. */
export interface BenchChild {
  report(): Promise<ProcessReport>;
  /** Sends a message and resolves with the child's next one. */
  ask<T>(message: string): Promise<T>;
  stop(): Promise<void>;
}

export async function forkChild(script: string, env: Record<string, string>): Promise<BenchChild> {
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [first] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${script} exited with ${String(code)} before it was ready`);
    }),
  ])) as unknown[];
  if (first !== 'ready') throw new Error(`${script} said ${JSON.stringify(first)} instead of ready`);
  const ask = async <T>(message: string): Promise<T> => {
    const answer = once(child, 'message');
    child.send(message);
    const [reply] = (await answer) as [T];
    return reply;
  };
  return {
    report: () => ask<ProcessReport>('report'),
    ask,
    async stop() {
      const exited = once(child, 'exit');
      child.send('stop');
      await exited;
    },
  };
}

/** The fakes in this process and the bot (or the floor) in a child, with the bench's settings. */
export async function startBotProcess(options: {
  guildCount: number;
  scale: number;
  env?: Record<string, string>;
  aiml?: FakeAimlOptions;
  variant?: 'bot' | 'floor';
}): Promise<{ discord: FakeDiscord; aiml: FakeAiml; child: BenchChild; close(): Promise<void> }> {
  const { discord, aiml, env } = await startFakes(options.guildCount, options.aiml);
  const child = await forkChild('./bot-process.ts', {
    ...env,
    BENCH_SCALE: String(options.scale),
    BENCH_VARIANT: options.variant ?? 'bot',
    ...options.env,
  });
  return {
    discord,
    aiml,
    child,
    async close() {
      await child.stop();
      await Promise.all([discord.close(), aiml.close()]);
    },
  };
}
