import { FakeAiml, type FakeAimlOptions } from '../fakes/aiml.js';
import { FakeDiscord, type FakeGuild } from '../fakes/discord.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { spawnBot, type BotProcess } from './processes.js';
import { createTestRedisSpace, type TestRedisSpace } from './redis.js';

/**
 * The bot deployed as separate processes, as `compose.yaml` deploys it: one gateway and N workers
 * sharing PostgreSQL and Redis, or (with `workers: 0`) the single process of the default setup.
 * The fakes run in the calling process, so a test or benchmark sees every request on the wire.
 */
export interface ProcessCluster {
  discord: FakeDiscord;
  aiml: FakeAiml;
  database: TestDatabase;
  redis: TestRedisSpace | undefined;
  /** The environment every process of the cluster gets. */
  env: Record<string, string>;
  /** The gateway (or the single process). */
  gateway: BotProcess;
  workers: BotProcess[];
  /** Starts one more worker on the same configuration. */
  startWorker(): Promise<BotProcess>;
  close(): Promise<void>;
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
  const discord = await FakeDiscord.start({ guilds: options.guilds });
  const aiml = await FakeAiml.start(options.aiml);
  const database = await createTestDatabase();
  const redis = options.workers > 0 ? createTestRedisSpace() : undefined;
  const env: Record<string, string> = {
    DISCORD_TOKEN: discord.token,
    AIML_API_KEY: aiml.apiKey,
    AIML_API_URL: aiml.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    DATABASE_URL: database.url,
    ...redis?.env,
    ...options.env,
  };
  const processes: BotProcess[] = [];
  const track = (bot: BotProcess) => {
    processes.push(bot);
    return bot;
  };
  try {
    const gateway = track(await spawnBot(redis ? 'gateway' : 'all', env));
    // Workers start together, as replicas of one service do; their migrations take turns on a lock.
    const workers = await Promise.all(
      Array.from({ length: options.workers }, async () => track(await spawnBot('worker', env))),
    );
    return {
      discord,
      aiml,
      database,
      redis,
      env,
      gateway,
      workers,
      startWorker: async () => track(await spawnBot('worker', env)),
      async close() {
        await Promise.all(processes.map((p) => p.kill('SIGTERM')));
        await Promise.all([discord.close(), aiml.close(), database.drop(), redis?.drop()]);
      },
    };
  } catch (error) {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await Promise.all([discord.close(), aiml.close(), database.drop(), redis?.drop()]);
    throw error;
  }
}
