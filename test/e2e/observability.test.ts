import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { music } from '../support/commands.js';
import { isFinalEdit, startHarness, type Harness } from '../support/harness.js';
import { captureLogs } from '../support/log.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** One sample's value from a Prometheus text scrape; 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function scrape(h: Harness): Promise<string> {
  const response = await fetch(`${h.app.httpUrl ?? ''}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** Scrapes until `series` is above zero (it moves just after the final edit), for up to a second. */
async function scrapeOnceMoved(h: Harness, series: string): Promise<string> {
  let text = await scrape(h);
  for (let i = 0; i < 50 && sample(text, series) === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    text = await scrape(h);
  }
  return text;
}

describe('/healthz and /metrics', () => {
  it('reports health, and the job counters move during an end-to-end run', async () => {
    const h = (harness = await startHarness({ env: { HTTP_PORT: '0' } }));
    expect(h.app.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await fetch(`${h.app.httpUrl ?? ''}/healthz`);
    expect(health.status).toBe(200);
    const onRedis = h.app.queue.kind === 'redis';
    expect(await health.json()).toEqual({
      healthy: true,
      role: 'all',
      queue: h.app.queue.kind,
      gateway: 'connected',
      store: 'ok',
      queueDepth: 0,
      jobs: {},
      ...(onRedis ? { redis: 'ok', sharedQueue: { ready: 0, delayed: 0, active: 0 } } : {}),
    });

    const before = await scrape(h);
    expect(sample(before, 'tracksmith_jobs_total{outcome="completed"}')).toBe(0);

    // The provider keeps generating until the test has seen the job mid-way, however slow the machine.
    h.aiml.script({ outcome: 'stuck' });
    const interaction = music(h.discord, 'metrics groove');
    await h.discord.waitForRequest(
      (r) => r.path.endsWith(`/${interaction.token}/messages/@original`) && r.method === 'PATCH',
    );
    // In process the job is generating here; on Redis it is parked until its next status check
    // (once the step that sent the edit has ended).
    const generating = onRedis
      ? 'tracksmith_shared_queue_jobs{state="delayed"}'
      : 'tracksmith_jobs{state="generating"}';
    const during = await scrapeOnceMoved(h, generating);
    expect(sample(during, generating)).toBe(1);
    expect(sample(during, 'tracksmith_interactions_total{kind="ApplicationCommand"}')).toBe(1);

    h.aiml.completeNow([...h.aiml.jobs.keys()][0]!);
    await h.discord.waitForRequest(isFinalEdit(interaction.token));
    const after = await scrapeOnceMoved(h, 'tracksmith_jobs_total{outcome="completed"}');
    expect(sample(after, 'tracksmith_jobs_total{outcome="completed"}')).toBe(1);
    expect(sample(after, 'tracksmith_jobs{state="generating"}')).toBe(0);
    expect(sample(after, 'tracksmith_provider_calls_total{call="create",outcome="ok"}')).toBe(1);
    const polls = h.aiml.requests.filter((r) => r.route === 'poll').length;
    expect(sample(after, 'tracksmith_polls_total')).toBe(polls);
    expect(sample(after, 'tracksmith_generation_seconds_count')).toBe(1);
    expect(sample(after, 'tracksmith_delivery_seconds_count')).toBe(1);
    // Measured from the provider's answer reaching the bot, which a loaded machine delays: above 0.
    expect(sample(after, 'tracksmith_generation_seconds_sum')).toBeGreaterThan(0);
  });

  it('counts retries, failures by kind and Discord errors', async () => {
    const h = (harness = await startHarness({ env: { HTTP_PORT: '0' } }));
    h.aiml.failNext('create', { status: 503, times: 10 });
    h.discord.failNext({ method: 'PATCH', path: /@original$/, status: 500, times: 1 });
    const interaction = music(h.discord, 'doomed');
    await h.discord.waitForRequest(isFinalEdit(interaction.token));
    const text = await scrapeOnceMoved(h, 'tracksmith_jobs_total{outcome="failed"}');
    expect(sample(text, 'tracksmith_jobs_total{outcome="failed"}')).toBe(1);
    expect(sample(text, 'tracksmith_provider_calls_total{call="create",outcome="unavailable"}')).toBe(1);
    expect(sample(text, 'tracksmith_provider_retries_total{call="create"}')).toBe(3);
    expect(sample(text, 'tracksmith_discord_errors_total{status="500"}')).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 when unhealthy, 404 elsewhere and 405 to other methods', async () => {
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      logger: captureLogs().logger,
      health: () => Promise.resolve({ healthy: false, gateway: 'disconnected' }),
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    });
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([
        503,
        { healthy: false, gateway: 'disconnected' },
      ]);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
