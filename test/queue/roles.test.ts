import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Role } from '../../src/config.js';
import { QUEUE_NAME } from '../../src/generation/redis/queue.js';
import type { Logger } from '../../src/log.js';
import { newJob } from '../../src/generation/ports.js';
import type { FakeAimlOptions } from '../fakes/aiml.js';
import type { FakeGuild } from '../fakes/discord.js';
import { startSharedServices, type SharedServices } from '../support/cluster.js';
import { music, user } from '../support/commands.js';
import {
  fastOptions,
  isFinalEdit,
  isPictureEdit,
  TRACK_ATTACHMENT_TYPES,
  TRACK_FILE_TYPES,
} from '../support/harness.js';
import { gate } from '../support/gate.js';
import { captureLogs, eventually } from '../support/log.js';
import { spawnBot, type BotProcess } from '../support/processes.js';
import { startRedisRelay } from '../support/redis.js';

const guilds: FakeGuild[] = [1, 2, 3].map((n) => ({
  id: `10000000000000${String(n).padStart(4, '0')}`,
  channels: [{ id: `10000000000001${String(n).padStart(4, '0')}`, name: 'music', type: 0 }],
}));

interface Cluster extends SharedServices {
  apps: App[];
  processes: BotProcess[];
  start(role: Role, env?: Record<string, string>, logger?: Logger): Promise<App>;
}

let cluster: Cluster | undefined;
afterEach(async () => {
  const ending = cluster;
  cluster = undefined;
  if (!ending) return;
  await Promise.all(ending.processes.map((p) => p.kill('SIGKILL')));
  for (const app of ending.apps) await app.stop();
  await ending.close();
});

/** Fakes, a PostgreSQL database and a Redis key space, shared by the apps and processes a test starts. */
async function startCluster(aimlOptions: FakeAimlOptions = {}): Promise<Cluster> {
  const services = await startSharedServices({
    guilds,
    aiml: { generationMs: 300, ...aimlOptions },
    redis: true,
  });
  const created: Cluster = {
    ...services,
    apps: [],
    processes: [],
    async start(role, extra = {}, logger = captureLogs().logger) {
      const config = loadConfig({
        ...services.env,
        LOG_LEVEL: 'debug',
        ROLE: role,
        HTTP_PORT: '0',
        ...extra,
      });
      const app = await createApp(config, { ...fastOptions, logger });
      created.apps.push(app);
      await app.start();
      return app;
    },
  };
  cluster = created;
  return created;
}

const creates = (c: Cluster) => c.aiml.requests.filter((r) => r.route === 'create');
const finalEdits = (c: Cluster, token: string) => c.discord.requests.filter(isFinalEdit(token));

async function health(app: App): Promise<Record<string, unknown>> {
  const response = await fetch(`${app.httpUrl ?? ''}/healthz`);
  return (await response.json()) as Record<string, unknown>;
}

describe('gateway and worker roles on Redis and PostgreSQL', () => {
  it('the gateway defers and enqueues; workers with no gateway connection deliver each request once', async () => {
    const c = await startCluster();
    const gateway = await c.start('gateway');
    const workers = [await c.start('worker'), await c.start('worker')];
    // Only the gateway holds a gateway session; workers talk to Discord over REST alone.
    expect(c.discord.sessions).toBe(1);
    expect(workers.map((w) => w.client)).toEqual([undefined, undefined]);

    const asked = guilds.flatMap((guild, g) =>
      [0, 1, 2, 3].map((n) =>
        music(c.discord, `song ${g}-${n}`, { guildId: guild.id, user: user(`2000000000000000${g}${n}`) }),
      ),
    );
    for (const interaction of asked) {
      const final = await c.discord.waitForRequest(isFinalEdit(interaction.token));
      expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    }
    expect(asked.map((i) => finalEdits(c, i.token).length)).toEqual(asked.map(() => 1));
    expect(creates(c)).toHaveLength(asked.length);
    await eventually(async () => {
      const statuses = await workers[0]!.database.db.selectFrom('usage').select('status').execute();
      return statuses.length === asked.length && statuses.every((r) => r.status === 'completed');
    });

    expect(await health(gateway)).toMatchObject({
      healthy: true,
      role: 'gateway',
      queue: 'redis',
      gateway: 'connected',
      redis: 'ok',
      queueDepth: 0,
    });
    const workerHealth = await health(workers[0]!);
    expect(workerHealth).toMatchObject({ healthy: true, role: 'worker', queue: 'redis', redis: 'ok' });
    expect(workerHealth).not.toHaveProperty('gateway');
    const metrics = await (await fetch(`${workers[0]!.httpUrl ?? ''}/metrics`)).text();
    expect(metrics).toContain('tracksmith_info{role="worker"} 1');
    expect(metrics).toMatch(/^tracksmith_shared_queue_jobs\{state="delayed"\} 0$/m);
  });

  it('queuing a request again, or a worker sweeping the ledger at start, never makes it twice', async () => {
    const c = await startCluster();
    const gateway = await c.start('gateway');
    await c.start('worker');
    const interaction = music(c.discord, 'only once', {
      guildId: guilds[0]!.id,
      user: user('200000000000000001'),
    });
    await c.discord.waitForRequest(isFinalEdit(interaction.token));
    const row = await gateway.database.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
    const again = newJob(
      row.id,
      { prompt: row.prompt, lengthSeconds: row.length_seconds },
      {
        guildId: row.guild_id,
        channelId: row.channel_id,
        userId: row.user_id,
        reply: { applicationId: row.application_id ?? '', interactionToken: interaction.token },
        uploadLimitBytes: 8 * 1024 * 1024,
      },
      row.requested_at,
    );
    await gateway.queue.enqueue(again);
    await gateway.queue.enqueue(again);
    // Started once its sweep of the ledger is done: anything it queued is in Redis by now.
    await c.start('worker');
    // Until the shared queue is empty: a job queued again, or by the sweep, would be waiting or
    // running until its steps were done, and would have asked the provider by then.
    await eventually(async () => {
      const { shared } = await gateway.queue.depth();
      return shared !== undefined && shared.ready + shared.delayed + shared.active === 0;
    });
    expect(creates(c)).toHaveLength(1);
    expect(finalEdits(c, interaction.token)).toHaveLength(1);
    expect(await gateway.queue.cancel(row.id, row.user_id)).toBe('not-running');
  });

  it('a worker runs at most WORKER_CONCURRENCY steps at once', async () => {
    const c = await startCluster();
    // Every download takes 600 ms, and all four tracks finish together.
    for (let i = 0; i < 4; i++) c.aiml.script({ generationMs: 300, cdn: { delayMs: 600 } });
    // The first file is held until a second file is asked for, which only a second step running
    // beside the first can do. (One slot would see the held download time out and be retried.)
    const secondFile = gate();
    c.aiml.holdNextDownload(secondFile.opened);
    await c.start('all', { WORKER_CONCURRENCY: '2', MAX_CONCURRENT_GENERATIONS: '10' });
    const asked = [0, 1, 2, 3].map((n) =>
      music(c.discord, `bounded ${n}`, { guildId: guilds[n % 3]!.id, user: user(`20000000000000010${n}`) }),
    );
    const cdnRequests = () => c.aiml.requests.filter((r) => r.route === 'cdn');
    await eventually(() => new Set(cdnRequests().map((r) => r.path)).size >= 2);
    // The first file was asked for once, and is still unanswered.
    const firstFile = cdnRequests()[0]!.path;
    expect(
      cdnRequests()
        .filter((r) => r.path === firstFile)
        .map((r) => r.status),
    ).toEqual([0]);
    secondFile.open();
    for (const interaction of asked) await c.discord.waitForRequest(isFinalEdit(interaction.token));
    const downloads = cdnRequests().map((r) => r.at);
    expect(downloads).toHaveLength(4);
    // Deliveries alone may run 8 at once here; the worker's two step slots are what hold them back.
    const [first, second, third, fourth] = downloads.sort((a, b) => a - b);
    // All four were ready before the third download began, yet it waited for a slot.
    const ready = Math.max(...[...c.aiml.jobs.values()].map((job) => job.completedAt ?? Infinity));
    expect(ready).toBeLessThan(third!);
    expect(third! - first!).toBeGreaterThanOrEqual(550);
    expect(fourth! - second!).toBeGreaterThanOrEqual(550);
  });

  it('tells the member plainly, and frees the slot, when Redis does not take the request', async () => {
    const c = await startCluster();
    const relay = await startRedisRelay();
    try {
      const config = loadConfig({ ...c.env, REDIS_URL: relay.url, LOG_LEVEL: 'debug', ROLE: 'all' });
      const logs = captureLogs();
      const app = await createApp(config, {
        ...fastOptions,
        enqueueTimeoutMs: 300,
        logger: logs.logger,
      });
      c.apps.push(app);
      await app.start();
      await relay.cut();
      const interaction = music(c.discord, 'lost in the outage', {
        guildId: guilds[0]!.id,
        user: user('200000000000000009'),
      });
      const notice = await c.discord.waitForRequest(
        (r) =>
          r.method === 'PATCH' &&
          r.path.endsWith(`${interaction.token}/messages/@original`) &&
          String((r.body as { content?: string }).content).includes('could not queue'),
      );
      expect((notice.body as { content: string }).content).toBe(
        'The bot could not queue this track just now. Please try again in a minute.',
      );
      // What the member finally sees: the last edit of the reply once the interaction is handled.
      await eventually(() =>
        logs.lines.some((l) => l.msg === 'interaction handled' && l.interactionId === interaction.id),
      );
      const edits = c.discord.requests.filter(
        (r) => r.method === 'PATCH' && r.path.endsWith(`${interaction.token}/messages/@original`),
      );
      expect((edits.at(-1)?.body as { content?: string }).content).toBe(
        'The bot could not queue this track just now. Please try again in a minute.',
      );
      expect((notice.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
      const row = await app.database.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
      expect([row.status, row.error]).toEqual(['failed', 'the request could not be queued']);
      expect(creates(c)).toHaveLength(0);
      // Every connection retries, and the outage is logged once.
      expect(logs.text().split('Redis is unreachable; retrying')).toHaveLength(2);
    } finally {
      await relay.close();
    }
  });

  it('warns that a gateway or worker on SQLite must share one host and one file', async () => {
    const c = await startCluster();
    const dir = await mkdtemp(join(tmpdir(), 'tracksmith-roles-'));
    try {
      const opened = async (role: Role, env: Record<string, string>) => {
        const logs = captureLogs();
        const config = loadConfig({ ...c.env, ROLE: role, ...env });
        await (await createApp(config, { ...fastOptions, logger: logs.logger })).stop();
        return logs.lines.filter((l) => l.level === 40).map((l) => l.msg);
      };
      const file = `sqlite://${join(dir, 'bot.sqlite')}`;
      expect(await opened('worker', { DATABASE_URL: file })).toEqual([
        'the store is SQLite: every gateway and worker must run on this host and open this file; use PostgreSQL (DATABASE_URL=postgres://…) across hosts',
      ]);
      // PostgreSQL, or one process doing everything, has nothing to warn about.
      expect(await opened('gateway', {})).toEqual([]);
      expect(await opened('all', { DATABASE_URL: file })).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a worker whose lock lapsed mid-download leaves the delivery to the worker that took the job over', async () => {
    const c = await startCluster();
    await c.start('gateway');
    const lock = { QUEUE_LOCK_SECONDS: '1' };
    const logs = [captureLogs(), captureLogs()];
    for (const { logger } of logs) await c.start('worker', lock, logger);
    const firstDownload = gate();
    c.aiml.holdNextDownload(firstDownload.opened);
    const interaction = music(c.discord, 'held mid-download', {
      guildId: guilds[2]!.id,
      user: user('200000000000000008'),
    });
    await eventually(() => c.aiml.requests.some((r) => r.route === 'cdn'));
    // The worker downloading loses its lock, as when Redis is away longer than the lock lives.
    const [row] = await c.apps[0]!.database.db.selectFrom('usage').select('id').execute();
    const lockKey = `${c.redis!.prefix}:${QUEUE_NAME}:${row!.id}:lock`;
    expect(await c.redis!.withClient((redis) => redis.del(lockKey))).toBe(1);
    // A worker takes the job over and delivers (its own download is not held).
    await c.discord.waitForRequest(isFinalEdit(interaction.token));
    // The first worker's download now ends; it finds the job is no longer its own.
    firstDownload.open();
    await eventually(() =>
      logs.some((l) => l.lines.some((line) => String(line.msg).startsWith('the job was taken over'))),
    );
    expect(finalEdits(c, interaction.token)).toHaveLength(1);
    await c.discord.waitForRequest(isPictureEdit(interaction.token));
    expect(c.discord.originalResponse(interaction.token)?.attachments.map((a) => a.content_type)).toEqual(
      TRACK_ATTACHMENT_TYPES,
    );
    expect(creates(c)).toHaveLength(1);
  });

  it('a worker killed mid-delivery loses its lock; another finishes the job and sends the track once', async () => {
    const c = await startCluster();
    await c.start('gateway');
    const lock = { QUEUE_LOCK_SECONDS: '1' };
    const doomed = await spawnBot('worker', { ...c.env, ...lock });
    c.processes.push(doomed);
    const interaction = music(c.discord, 'survives a crash', {
      guildId: guilds[1]!.id,
      user: user('200000000000000007'),
    });
    // Discord applies the final edit, but the worker dies before the answer reaches it: the track
    // is in the reply and the ledger does not know.
    c.discord.holdNext({ match: isFinalEdit(interaction.token), ms: 60_000 });
    await c.discord.waitForRequest(isFinalEdit(interaction.token));
    await doomed.kill('SIGKILL');

    const survivor = await c.start('worker', lock);
    await eventually(async () => {
      const row = await survivor.database.db.selectFrom('usage').selectAll().executeTakeFirst();
      return row?.status === 'completed';
    });
    const row = await survivor.database.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
    expect(row.delivery).toBe('attachment via reply (found after a restart)');
    expect(finalEdits(c, interaction.token)).toHaveLength(1);
    expect(creates(c)).toHaveLength(1);
  });
});
