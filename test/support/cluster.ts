import { randomBytes } from 'node:crypto';
import { FakeAiml, type FakeAimlOptions } from '../fakes/aiml.js';
import { FakeDiscord, type FakeGuild, type VoiceBackend } from '../fakes/discord.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { spawnBot, type BotProcess } from './processes.js';
import { createTestRedisSpace, type TestRedisSpace } from './redis.js';

/**
 * What every process of a deployment shares: the fakes (in the calling process, so a test or
 * benchmark sees every request on the wire), a PostgreSQL database and, for gateways and workers,
 * a Redis key space; and the environment that points a bot at them.
 */
export interface SharedServices {
  discord: FakeDiscord;
  aiml: FakeAiml;
  database: TestDatabase;
  redis: TestRedisSpace | undefined;
  /** The environment every process gets. */
  env: Record<string, string>;
  /** Closes the fakes and drops the database and the Redis keys. */
  close(): Promise<void>;
}

export async function startSharedServices(options: {
  guilds: FakeGuild[];
  aiml?: FakeAimlOptions;
  redis: boolean;
  env?: Record<string, string>;
  /** A fake voice server for op 4 to point at. */
  voice?: VoiceBackend;
}): Promise<SharedServices> {
  const discord = await FakeDiscord.start({
    guilds: options.guilds,
    ...(options.voice ? { voice: options.voice } : {}),
  });
  const aiml = await FakeAiml.start(options.aiml);
  const database = await createTestDatabase();
  const redis = options.redis ? createTestRedisSpace() : undefined;
  return {
    discord,
    aiml,
    database,
    redis,
    env: {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: aiml.apiKey,
      AIML_API_URL: aiml.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
      DATABASE_URL: database.url,
      // Gateways and workers read each other's stored tokens, so they share one key.
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...redis?.env,
      ...options.env,
    },
    async close() {
      await Promise.all([discord.close(), aiml.close(), database.drop(), redis?.drop()]);
    },
  };
}

/**
 * The bot deployed as separate processes, as `compose.yaml` deploys it: one gateway and N workers
 * sharing PostgreSQL and Redis, or (with `workers: 0`) the single process of the default setup.
 */
export interface ProcessCluster extends SharedServices {
  /** The gateway (or the single process). */
  gateway: BotProcess;
  workers: BotProcess[];
  /** Starts one more worker on the same configuration. */
  startWorker(): Promise<BotProcess>;
}

/** `count` servers with one channel each, with IDs spread over the snowflake range. */
export function makeGuilds(count: number): FakeGuild[] {
  return Array.from({ length: count }, (_, i) => {
    const base = 100_000_000_000_000_000n + BigInt(i) * 4_194_304n * 7n;
    return {
      id: String(base),
      name: `server ${i}`,
      channels: [{ id: String(base + 1n), name: 'music', type: 0 }],
    };
  });
}

export async function startProcessCluster(options: {
  workers: number;
  guilds: FakeGuild[];
  aiml?: FakeAimlOptions;
  env?: Record<string, string>;
}): Promise<ProcessCluster> {
  const services = await startSharedServices({ ...options, redis: options.workers > 0 });
  const { env } = services;
  const processes: BotProcess[] = [];
  const track = (bot: BotProcess) => {
    processes.push(bot);
    return bot;
  };
  try {
    const gateway = track(await spawnBot(services.redis ? 'gateway' : 'all', env));
    // Workers start together, as replicas of one service do; their migrations take turns on a lock.
    const workers = await Promise.all(
      Array.from({ length: options.workers }, async () => track(await spawnBot('worker', env))),
    );
    return {
      ...services,
      gateway,
      workers,
      startWorker: async () => track(await spawnBot('worker', env)),
      async close() {
        await Promise.all(processes.map((p) => p.kill('SIGTERM')));
        await services.close();
      },
    };
  } catch (error) {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await services.close();
    throw error;
  }
}
