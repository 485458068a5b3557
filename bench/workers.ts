import { ApplicationCommandOptionType } from 'discord.js';
import { makeGuilds, startProcessCluster, type ProcessCluster } from '../test/support/cluster.js';
import { isFinalEdit } from './fixtures.js';
import { percentile, seeded } from './support.js';

/**
 * Throughput and detection lag of the bot deployed as processes: one gateway beside 1, 2 or 4
 * workers on PostgreSQL and Redis, against the single process of the default setup (in-process
 * queue, no Redis) on the same PostgreSQL, measured in the same run on the same requests.
 *
 * Nothing is scaled here: the bot processes run the production schedule, because they are started
 * as `npm start` would start them and take no bench options. Every request arrives at once, from
 * 30 servers, so neither the per-server `concurrent` (10) nor MAX_CONCURRENT_GENERATIONS (200)
 * holds many in line, and each track takes the provider only 1.5–2.5 s: what is left to limit the
 * rate is the bot's own pipeline (gateway, queue, checks, download, upload).
 *
 * On a machine with 2 cores, every process (the fakes in this one, PostgreSQL, Redis, the gateway
 * and the workers) competes for the same two cores, so more workers mostly add processes to
 * schedule and the figures show the cost of the split more than how it scales; read them on a
 * bigger machine for scaling. (This bench found that discord.js counted the reply's edits in its
 * 50-requests-a-second global limit, capping a process at about 11 deliveries a second; the
 * interaction routes now have a client of their own, as Discord's limits allow.)
 */
export interface WorkersOptions {
  /** Requests per variant. */
  jobs: number;
  /** Which worker counts to measure beside the single process. */
  workerCounts: number[];
  seed: number;
}

export interface WorkersRow {
  variant: string;
  processes: number;
  jobs: number;
  seconds: number;
  deliveriesPerS: number;
  p50LagS: number;
  p99LagS: number;
}

/** 30 servers keep every server at or under its `concurrent` of 10 with the default 300 requests. */
const guildCount = 30;
/** Members ask 5 times each at most, well under the default 25 a day, whatever BENCH_WORKER_JOBS is. */
const asksPerMember = 5;

interface Ask {
  prompt: string;
  guild: number;
  member: number;
  generationMs: number;
}

function plan(options: WorkersOptions): Ask[] {
  const random = seeded(options.seed);
  return Array.from({ length: options.jobs }, (_, n) => {
    const guild = n % guildCount;
    // The n-th ask of this server; its members take turns in blocks of `asksPerMember`.
    const nth = Math.floor(n / guildCount);
    return {
      prompt: `workers bench g${guild} n${nth}`,
      guild,
      member: Math.floor(nth / asksPerMember),
      generationMs: 1_500 + random() * 1_000,
    };
  });
}

const env = {
  MAX_CONCURRENT_GENERATIONS: '200',
  // spawnBot waits for the `started` line, which pino writes at info; quieter levels never start.
  LOG_LEVEL: 'info',
};

async function measure(asks: Ask[], workers: number): Promise<WorkersRow> {
  const byPrompt = new Map(asks.map((a) => [a.prompt, a.generationMs]));
  const guilds = makeGuilds(guildCount);
  const c: ProcessCluster = await startProcessCluster({
    workers,
    guilds,
    aiml: { generationMs: ({ prompt }) => byPrompt.get(prompt) ?? 2_000 },
    env,
  });
  try {
    const sent = asks.map((ask) => {
      const guild = guilds[ask.guild];
      if (!guild) throw new Error(`no server ${ask.guild}`);
      const { token } = c.discord.chatInput({
        name: 'music',
        guildId: guild.id,
        user: {
          id: `3000000000${String(ask.guild).padStart(3, '0')}${String(ask.member).padStart(5, '0')}`,
          username: `g${ask.guild}m${ask.member}`,
        },
        // The server's default length (30 s): a realistic file to download and upload.
        options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: ask.prompt }],
      });
      return { ask, token };
    });
    // Generous: even a pipeline ten times slower than expected finishes inside it.
    const timeoutMs = 120_000 + asks.length * 500;
    const finals = await Promise.all(
      sent.map(({ token }) => c.discord.waitForRequest(isFinalEdit(token), timeoutMs)),
    );
    // A failure also ends in a final edit; counting it as a delivery would flatter the variant.
    const undelivered = finals.filter((f) => f.status !== 200 || f.files.length === 0).length;
    if (undelivered > 0) throw new Error(`${undelivered} of ${asks.length} requests were not delivered`);

    const tokens = new Set(sent.map((s) => s.token));
    const firstDispatch = Math.min(
      ...c.discord.dispatched.filter((d) => tokens.has(d.token)).map((d) => d.at),
    );
    const lastFinal = Math.max(...finals.map((f) => f.at));
    const completedAt = new Map([...c.aiml.jobs.values()].map((j) => [j.prompt, j.completedAt]));
    const lagsS = sent.map(({ ask }, i) => {
      const done = completedAt.get(ask.prompt);
      const final = finals[i];
      if (done === undefined || !final) throw new Error(`no completed provider job for "${ask.prompt}"`);
      return (final.at - done) / 1000;
    });
    const seconds = (lastFinal - firstDispatch) / 1000;
    return {
      variant:
        workers === 0
          ? 'single process (role all, in-process queue)'
          : `1 gateway + ${workers} worker${workers === 1 ? '' : 's'} (Redis)`,
      processes: 1 + workers,
      jobs: asks.length,
      seconds,
      deliveriesPerS: asks.length / seconds,
      p50LagS: percentile(lagsS, 0.5),
      p99LagS: percentile(lagsS, 0.99),
    };
  } finally {
    await c.close();
  }
}

export async function workersBench(options: WorkersOptions): Promise<WorkersRow[]> {
  const asks = plan(options);
  const rows: WorkersRow[] = [];
  // One at a time: two clusters at once would share the two cores and spoil both measurements.
  for (const workers of [0, ...options.workerCounts]) rows.push(await measure(asks, workers));
  return rows;
}
