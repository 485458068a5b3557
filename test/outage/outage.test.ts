import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Role } from '../../src/config.js';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord, type FakeGuild, type RecordedRequest } from '../fakes/discord.js';
import { music, user } from '../support/commands.js';
import { fastOptions, holdsOneTrack, isFinalEdit, TRACK_FILE_TYPES } from '../support/harness.js';
import { captureLogs, eventually } from '../support/log.js';
import { createTestDatabase, refuseConnections, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';

/**
 * The store or Redis goes away while requests are in flight, at each point of a job's life, and
 * comes back: every request still gets exactly one track in its own reply, the ledger ends with
 * one completed row per request, and no generation is ever checked under an empty ID. The figures
 * for each fault point are printed (and kept in docs/resilience.md).
 */

const OUTAGE_MS = 5_000;
const PER_POINT = 5;

const guild: FakeGuild = {
  id: '100000000000000051',
  channels: [{ id: '100000000000000052', name: 'music', type: 0 }],
};

type Point =
  | 'after the POST answer'
  | 'while polling'
  | 'during download'
  | 'before the final edit'
  | 'after the final edit';

interface Figures {
  fault: string;
  requests: number;
  delivered: number;
  duplicates: number;
  resubmissions: number;
  /** From the fault's end to the store (or Redis) answering the bot again, and to the last track landing. */
  backAfterMs: number | undefined;
  lastTrackAfterMs: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const figures: Figures[] = [];

const bodyOf = (r: RecordedRequest) =>
  r.body as { content?: string; data?: { content?: string; flags?: number } };

/** What a round's requests came to, from the fakes' records and the ledger. */
async function tally(options: {
  discord: FakeDiscord;
  aiml: FakeAiml;
  asked: { token: string; prompt: string }[];
  logLines: () => Record<string, unknown>[];
  completedAt: () => Promise<Map<string, number>>;
  fault: string;
  faultEndedAt: number;
}): Promise<Figures> {
  const { discord, aiml, asked } = options;
  const creates = aiml.requests.filter((r) => r.route === 'create');
  let duplicates = 0;
  let delivered = 0;
  for (const { token, prompt } of asked) {
    if (holdsOneTrack(discord.originalResponse(token))) delivered++;
    // An edit sent again is harmless (same message, same content); a second provider job is not.
    const submissions = creates.filter((r) => (r.body as { prompt?: string }).prompt === prompt).length;
    duplicates += Math.max(0, submissions - 1);
  }
  const resubmissions = options
    .logLines()
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('submitting again')).length;
  const back = options
    .logLines()
    .filter(
      (l) =>
        (l.msg === 'the store is back' || l.msg === 'Redis is back') &&
        Number(l.time) >= options.faultEndedAt,
    )
    .map((l) => Number(l.time) - options.faultEndedAt);
  const completions = [...(await options.completedAt()).values()];
  return {
    fault: options.fault,
    requests: asked.length,
    delivered,
    duplicates,
    resubmissions,
    backAfterMs: back.length === 0 ? undefined : Math.min(...back),
    lastTrackAfterMs: Math.max(0, Math.max(...completions) - options.faultEndedAt),
  };
}

function report(title: string, rows: Figures[]): void {
  const lines = rows.map(
    (f) =>
      `${f.fault.padEnd(30)} ${String(f.delivered).padStart(3)}/${f.requests}  dup ${f.duplicates}  resub ${f.resubmissions}  back ${f.backAfterMs === undefined ? '—' : `${f.backAfterMs} ms`}  last track ${f.lastTrackAfterMs} ms`,
  );
  console.log(`\n${title}\n${lines.join('\n')}\n`);
}

describe('outages of the store and of Redis', () => {
  it('a gateway and two workers on PostgreSQL and Redis: 30 requests through 5 database outages and a Redis restart', async () => {
    const discord = await FakeDiscord.start({ guilds: [guild] });
    const aiml = await FakeAiml.start({ generationMs: 600 });
    const database: TestDatabase = await createTestDatabase();
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(
      () => discord.close(),
      () => aiml.close(),
      () => database.drop(),
      () => redis.close(),
    );
    const env = {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: aiml.apiKey,
      AIML_API_URL: aiml.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `outage-${randomBytes(3).toString('hex')}`,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // A step cut off by the Redis restart is handed on after its lock, not after 30 s.
      QUEUE_LOCK_SECONDS: '2',
      LOG_LEVEL: 'debug',
      HTTP_PORT: '0',
    };
    const logs = captureLogs();
    const apps: App[] = [];
    const start = async (role: Role) => {
      const app = await createApp(loadConfig({ ...env, ROLE: role }), {
        ...fastOptions,
        logger: logs.logger.child({ app: `${role}-${apps.length}` }),
        ledgerRetry: { minTimeoutMs: 100, maxTimeoutMs: 1_000 },
        storeProbeIntervalMs: 250,
        queueRetry: { attempts: 30, firstDelayMs: 200 },
      });
      apps.push(app);
      cleanups.push(() => app.stop());
      await app.start();
      return app;
    };
    const gateway = await start('gateway');
    await start('worker');
    await start('worker');
    // OUTAGE_LOG=/tmp/outage.jsonl keeps every process's log lines of a failed run for reading.
    onTestFailed(async () => {
      if (process.env.OUTAGE_LOG) await writeFile(process.env.OUTAGE_LOG, logs.text());
    });

    const ledger = async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database.url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const { rows } = await client.query<{
          id: string;
          status: string;
          completed_at: string | null;
          prompt: string;
        }>('select id, status, completed_at, prompt from usage');
        return rows;
      } finally {
        await client.end();
      }
    };

    const points: Point[] = [
      'after the POST answer',
      'while polling',
      'during download',
      'before the final edit',
      'after the final edit',
    ];
    const allAsked: { token: string; prompt: string; id: string }[] = [];
    const rows: Figures[] = [];
    let asking = 0;

    const round = async (
      fault: string,
      inject: (first: { token: string; prompt: string }) => Promise<number>,
    ) => {
      const roundStartedAt = Date.now();
      const asked = Array.from({ length: PER_POINT }, () => {
        asking++;
        const prompt = `outage song ${asking}`;
        const interaction = music(discord, prompt, {
          guildId: guild.id,
          user: user(`2000000000000${String(asking).padStart(5, '0')}`),
        });
        return { ...interaction, prompt };
      });
      allAsked.push(...asked);
      // Accepted first (deferred, its row written): the fault is for requests in flight.
      for (const { id } of asked) {
        await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${id}/`), 30_000);
      }
      const faultEndedAt = await inject(asked[0]!);
      for (const { token } of asked) await discord.waitForRequest(isFinalEdit(token), 60_000);
      // Every row of the round completed in the ledger (its write may land after the edit).
      await eventually(async () => {
        const done = (await ledger()).filter((r) => asked.some((a) => a.prompt === r.prompt));
        return done.length === asked.length && done.every((r) => r.status === 'completed');
      }, 90_000);
      rows.push(
        await tally({
          discord,
          aiml,
          asked,
          fault,
          faultEndedAt,
          logLines: () => logs.lines.filter((l) => Number(l.time) >= roundStartedAt),
          completedAt: async () =>
            new Map(
              (await ledger())
                .filter((r) => asked.some((a) => a.prompt === r.prompt))
                .map((r) => [r.id, Number(r.completed_at)]),
            ),
        }),
      );
    };

    const createOf = (prompt: string) =>
      aiml.requests.find((r) => r.route === 'create' && (r.body as { prompt?: string }).prompt === prompt);
    const generationOf = (prompt: string) => [...aiml.jobs.values()].find((job) => job.prompt === prompt)?.id;

    for (const point of points) {
      await round(`PostgreSQL ${point}`, async (first) => {
        switch (point) {
          case 'after the POST answer':
            await eventually(() => (createOf(first.prompt)?.status ?? 0) !== 0, 30_000);
            break;
          case 'while polling':
            await eventually(() => {
              const id = generationOf(first.prompt);
              return aiml.requests.some((r) => r.route === 'poll' && r.query.get('generation_id') === id);
            }, 30_000);
            break;
          case 'during download':
          case 'before the final edit': {
            const id = generationOf;
            await eventually(() => {
              const audio = aiml.job(id(first.prompt) ?? '')?.audioUrl;
              return aiml.requests.some(
                (r) =>
                  r.route === 'cdn' &&
                  audio?.endsWith(r.path) === true &&
                  (point === 'during download' || r.status !== 0),
              );
            }, 30_000);
            break;
          }
          case 'after the final edit':
            // Applied at once, answered 500 ms later: the outage begins between the edit landing
            // and the bot hearing so, when it goes on to record the delivery.
            discord.holdNext({ match: isFinalEdit(first.token), ms: 500 });
            await discord.waitForRequest(isFinalEdit(first.token), 30_000);
            break;
        }
        const outage = await refuseConnections(database.name);
        if (point === 'after the POST answer') {
          // While it is down: a new request is turned away privately and nothing reaches the provider,
          // and the gateway's /healthz says it is unhealthy.
          const late = music(discord, 'asked during the outage', {
            guildId: guild.id,
            user: user('200000000000099999'),
          });
          const answer = await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${late.id}/`));
          expect(bodyOf(answer).data?.content).toBe(
            "The bot's storage is unavailable right now. Try again in a minute.",
          );
          expect((bodyOf(answer).data?.flags ?? 0) & 64).toBe(64);
          const health = await fetch(`${gateway.httpUrl ?? ''}/healthz`);
          expect(health.status).toBe(503);
        }
        // The rest of the outage's 5 s: the fault's length, not a wait for something to happen.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, outage.downAt + OUTAGE_MS - Date.now())),
        );
        return outage.allow();
      });
    }

    await round('Redis restart while polling', async (first) => {
      await eventually(() => {
        const id = generationOf(first.prompt);
        return aiml.requests.some((r) => r.route === 'poll' && r.query.get('generation_id') === id);
      }, 30_000);
      const { upAt } = await redis.restart(3_000);
      return upAt;
    });

    figures.push(...rows);
    report('Outage test: a gateway and two workers, PostgreSQL and Redis', rows);

    // Every request: exactly one track in its own reply, one completed row, one provider job.
    expect(allAsked).toHaveLength(30);
    for (const { token } of allAsked) {
      expect(holdsOneTrack(discord.originalResponse(token))).toBe(true);
      expect(
        discord.requests.filter(isFinalEdit(token)).every((r) => r.files.length <= TRACK_FILE_TYPES.length),
      ).toBe(true);
    }
    const channelPosts = discord.requests.filter(
      (r) => r.method === 'POST' && /\/channels\/\d+\/messages$/.test(r.path),
    );
    expect(channelPosts).toEqual([]);
    const finalRows = await ledger();
    const counted = finalRows.filter((r) => allAsked.some((a) => a.prompt === r.prompt));
    expect(counted).toHaveLength(30);
    expect(counted.every((r) => r.status === 'completed')).toBe(true);
    // The one asked during the outage never got a row, nor reached the provider.
    expect(finalRows.some((r) => r.prompt === 'asked during the outage')).toBe(false);
    expect(
      aiml.requests.some(
        (r) => (r.body as { prompt?: string } | undefined)?.prompt === 'asked during the outage',
      ),
    ).toBe(false);
    // No generation was ever checked under an empty or unknown ID.
    const polled = aiml.requests
      .filter((r) => r.route === 'poll')
      .map((r) => r.query.get('generation_id') ?? '');
    expect(polled.length).toBeGreaterThan(0);
    expect(polled.filter((id) => id === '' || !aiml.jobs.has(id))).toEqual([]);
    expect(rows.reduce((n, r) => n + r.duplicates, 0)).toBe(rows.reduce((n, r) => n + r.resubmissions, 0));
  }, 420_000);

  it('one process on SQLite with the in-process queue: the file locked by another process for 5 s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracksmith-outage-'));
    const discord = await FakeDiscord.start({ guilds: [guild] });
    const aiml = await FakeAiml.start({ generationMs: 400 });
    cleanups.push(
      () => discord.close(),
      () => aiml.close(),
      () => rm(dir, { recursive: true, force: true }),
    );
    const file = join(dir, 'bot.sqlite');
    const logs = captureLogs();
    const app = await createApp(
      loadConfig({
        DISCORD_TOKEN: discord.token,
        AIML_API_KEY: aiml.apiKey,
        AIML_API_URL: aiml.baseUrl,
        DISCORD_API_URL: discord.apiUrl,
        DATABASE_URL: `sqlite://${file}`,
        DATA_DIR: dir,
        LOG_LEVEL: 'debug',
      }),
      {
        ...fastOptions,
        logger: logs.logger,
        ledgerRetry: { minTimeoutMs: 100, maxTimeoutMs: 1_000 },
        storeProbeIntervalMs: 250,
        // A write that meets the lock holds the whole process for up to SQLite's busy timeout (the
        // driver is synchronous), and a download in flight then times out on waking. Production's
        // 60 s outlasts that wait; the quick 2 s of the other tests does not.
        download: { ...fastOptions.download, timeoutMs: 15_000 },
      },
    );
    cleanups.push(() => app.stop());
    await app.start();

    const asked = Array.from({ length: 10 }, (_, i) => {
      const prompt = `locked song ${i}`;
      return {
        ...music(discord, prompt, {
          guildId: guild.id,
          user: user(`2000000000001${String(i).padStart(5, '0')}`),
        }),
        prompt,
      };
    });
    for (const { id } of asked) {
      await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${id}/`), 30_000);
    }
    // Locked as soon as the provider has answered the first: submissions, polls and deliveries
    // of the others all meet the lock.
    await eventually(() => aiml.requests.some((r) => r.route === 'create' && r.status !== 0), 30_000);
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)});
           db.exec('BEGIN EXCLUSIVE'); console.log('locked');
           setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${OUTAGE_MS});`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => locker.stdout.once('data', () => resolve()));
    await new Promise((resolve) => locker.once('exit', resolve));
    const faultEndedAt = Date.now();

    for (const { token } of asked) await discord.waitForRequest(isFinalEdit(token), 90_000);
    const rowsNow = () =>
      app.database.db.selectFrom('usage').select(['id', 'status', 'completed_at', 'prompt']).execute();
    await eventually(async () => (await rowsNow()).every((r) => r.status === 'completed'), 60_000).catch(
      async (error: unknown) => {
        // What is stuck, and what the bot said about it, instead of a bare timeout.
        const stuck = (await rowsNow()).filter((r) => r.status !== 'completed');
        const said = logs.lines
          .filter((l) => Number(l.level) >= 40)
          .map((l) => `${String(l.requestId)} ${String(l.msg)} ${JSON.stringify(l.err ?? '')}`);
        throw new Error(
          `${String(error)}; not completed: ${JSON.stringify(stuck)}; warnings: ${said.join(' | ')}`,
        );
      },
    );
    const row = await tally({
      discord,
      aiml,
      asked,
      fault: 'SQLite locked by another process',
      faultEndedAt,
      logLines: () => logs.lines,
      completedAt: async () => new Map((await rowsNow()).map((r) => [r.id, Number(r.completed_at)])),
    });
    figures.push(row);
    report('Outage test: one process, in-process queue, SQLite', [row]);

    for (const { token } of asked) expect(holdsOneTrack(discord.originalResponse(token))).toBe(true);
    const rows = await rowsNow();
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
    expect(aiml.requests.filter((r) => r.route === 'create')).toHaveLength(10);
    const polled = aiml.requests
      .filter((r) => r.route === 'poll')
      .map((r) => r.query.get('generation_id') ?? '');
    expect(polled.filter((id) => id === '' || !aiml.jobs.has(id))).toEqual([]);
  }, 180_000);
});
