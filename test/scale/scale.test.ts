import { ApplicationCommandOptionType } from 'discord.js';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isFinalEdit } from '../support/harness.js';
import { makeGuilds, startProcessCluster, type ProcessCluster } from '../support/cluster.js';

/**
 * `npm run test:scale`: the bot as separate processes (one gateway, three workers) on PostgreSQL
 * and Redis, between the fake Discord and the fake AIML API. 200 requests from 20 servers, one of
 * which floods the line first; once as is, once with a worker SIGKILLed mid-run and restarted.
 */
const GUILDS = makeGuilds(20);
const FLOOD = 48;
const PER_GUILD = 8;
const GLOBAL_LIMIT = 24;
/** Each server's `concurrent` (the default). */
const GUILD_LIMIT = 10;

let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

interface Asked {
  guild: number;
  prompt: string;
  token: string;
}

/** The flood server's requests first, then the other servers' in turn, as members would type them. */
function plan(): { guild: number; user: number; prompt: string }[] {
  const asks = Array.from({ length: FLOOD }, (_, n) => ({ guild: 0, user: n % 3, prompt: `scale g0 n${n}` }));
  for (let n = 0; n < PER_GUILD; n++) {
    for (let g = 1; g < GUILDS.length; g++) asks.push({ guild: g, user: n % 3, prompt: `scale g${g} n${n}` });
  }
  return asks;
}

/** 4–5 s per track, so that every request is in line before the first slot frees. */
const generationMs = ({ prompt }: { prompt: string }) =>
  4_000 + (Number(/n(\d+)/.exec(prompt)?.[1] ?? 0) % 7) * 150;

async function run(c: ProcessCluster, midRun?: (delivered: number) => Promise<void>): Promise<Asked[]> {
  const asked = plan().map(({ guild, user, prompt }) => {
    const target = GUILDS[guild];
    if (!target) throw new Error('no such guild');
    const { token } = c.discord.chatInput({
      name: 'music',
      guildId: target.id,
      user: { id: `2000000000000${String(guild).padStart(3, '0')}${user}`, username: `g${guild}u${user}` },
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt }],
    });
    return { guild, prompt, token };
  });
  let delivered = 0;
  let fired = false;
  const finals = asked.map(async (a) => {
    await c.discord.waitForRequest(isFinalEdit(a.token), 150_000);
    delivered++;
    if (midRun && !fired && delivered >= 60) {
      fired = true;
      await midRun(delivered);
    }
  });
  await Promise.all(finals);
  return asked;
}

/** How long the gateway took to accept every request, against when the first track was done. */
function arrivalSpan(c: ProcessCluster, asked: Asked[]): string {
  const tokens = new Set(asked.map((a) => a.token));
  const deferred = c.discord.requests.filter(
    (r) => r.path.startsWith('/interactions/') && [...tokens].some((t) => r.path.includes(t)),
  );
  const first = Math.min(...c.discord.dispatched.map((d) => d.at));
  const last = Math.max(...deferred.map((r) => r.at));
  const done = Math.min(...[...c.aiml.jobs.values()].map((j) => j.completedAt ?? Infinity));
  return `${((last - first) / 1000).toFixed(1)} s after the first, the first track done at ${((done - first) / 1000).toFixed(1)} s`;
}

async function ledger(c: ProcessCluster) {
  const client = new pg.Client({ connectionString: c.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      id: string;
      prompt: string;
      guild_id: string;
      status: string;
      delivery: string | null;
      track_number: number | null;
    }>('select id, prompt, guild_id, status, delivery, track_number from usage');
    return rows;
  } finally {
    await client.end();
  }
}

/** Settles once the last worker has written the last delivery to the ledger. */
async function settledLedger(c: ProcessCluster, count: number) {
  for (let tries = 0; tries < 100; tries++) {
    const rows = await ledger(c);
    if (rows.length >= count && rows.every((r) => r.status === 'completed')) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return ledger(c);
}

/** Servers in the order the provider received their tracks: the order the fair gate let them in. */
function creationOrder(c: ProcessCluster): number[] {
  return c.aiml.requests
    .filter((r) => r.route === 'create' && r.status === 200)
    .map((r) => Number(/scale g(\d+) /.exec(JSON.stringify(r.body))?.[1] ?? -1));
}

/**
 * Returns the prompts the provider was asked for twice. Only a worker killed inside a submission
 * (after the provider accepted it, before the ledger recorded it) may cause one: the provider's API
 * has no idempotency key, so its successor cannot know. `killedInSubmission` says whether the
 * killed worker had begun submitting that request.
 */
function checkExactlyOnce(
  c: ProcessCluster,
  asked: Asked[],
  rows: Awaited<ReturnType<typeof ledger>>,
  killedInSubmission: (requestId: string) => boolean = () => false,
): string[] {
  // Every reply got its track once, and nothing else was posted anywhere.
  const finals = asked.map((a) => c.discord.requests.filter(isFinalEdit(a.token)).length);
  expect(finals.filter((n) => n !== 1)).toEqual([]);
  expect(c.discord.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'))).toEqual([]);
  // Every request reached the provider once, but for the window above.
  const creates = new Map<string, number>();
  for (const r of c.aiml.requests) {
    if (r.route !== 'create' || r.status !== 200) continue;
    const prompt = (r.body as { prompt: string }).prompt;
    creates.set(prompt, (creates.get(prompt) ?? 0) + 1);
  }
  expect(creates.size).toBe(asked.length);
  const twice = [...creates].filter(([, n]) => n > 1).map(([prompt]) => prompt);
  for (const prompt of twice) {
    const row = rows.find((r) => r.prompt === prompt);
    expect({
      prompt,
      times: creates.get(prompt),
      killedInSubmission: killedInSubmission(row?.id ?? ''),
    }).toEqual({ prompt, times: 2, killedInSubmission: true });
  }
  // One ledger row per request: none lost, none doubled, all delivered as attachments.
  expect(rows).toHaveLength(asked.length);
  expect(new Set(rows.map((r) => r.prompt)).size).toBe(asked.length);
  expect(rows.filter((r) => r.status !== 'completed' || !r.delivery?.startsWith('attachment'))).toEqual([]);
  // Per-server numbers run 1..n with no gap and no repeat.
  const byGuild = new Map<string, number[]>();
  for (const row of rows)
    byGuild.set(row.guild_id, [...(byGuild.get(row.guild_id) ?? []), row.track_number ?? 0]);
  for (const numbers of byGuild.values()) {
    expect(numbers.sort((a, b) => a - b)).toEqual(numbers.map((_, i) => i + 1));
  }
  return twice;
}

/**
 * The fair order, with a little slack for jobs let in together reaching the provider in a
 * different order: the flooding server gets no more than its own limit before the others start;
 * every server starts early; no server gets ahead of another that still has tracks to make by more
 * than the slack, and the flooding server (whose first few came before anyone else asked) by more
 * than its limit and the slack. A server may fall behind only while its requests are still coming
 * in: the flood's reservations take turns, so they reach the line one at a time.
 */
function checkFairness(order: number[], slack: number, startSlack = slack) {
  const firstIndex = GUILDS.map((_, g) => order.indexOf(g));
  expect(order.slice(0, GLOBAL_LIMIT).filter((g) => g === 0).length).toBeLessThanOrEqual(GUILD_LIMIT);
  expect(Math.max(...firstIndex)).toBeLessThan(GUILD_LIMIT + GUILDS.length + startSlack);
  const counts = GUILDS.map(() => 0);
  let worst = 0;
  let floodLead = 0;
  for (const g of order) {
    counts[g] = (counts[g] ?? 0) + 1;
    const open = counts.slice(1).filter((n) => n < PER_GUILD);
    if (open.length === 0) continue;
    const least = Math.min(...open);
    worst = Math.max(worst, Math.max(...open) - least);
    if ((counts[0] ?? 0) < FLOOD) floodLead = Math.max(floodLead, (counts[0] ?? 0) - least);
  }
  if (worst > slack || floodLead > GUILD_LIMIT + slack) {
    console.log(`creation order by server: ${order.join(' ')}`);
  }
  expect(worst).toBeLessThanOrEqual(slack);
  expect(floodLead).toBeLessThanOrEqual(GUILD_LIMIT + slack);
  return worst;
}

const env = {
  MAX_CONCURRENT_GENERATIONS: String(GLOBAL_LIMIT),
  QUEUE_LOCK_SECONDS: '2',
  WORKER_CONCURRENCY: '16',
  LOG_LEVEL: 'info',
};

/** One gateway and three workers as processes, on PostgreSQL and Redis. */
async function startScaleCluster(): Promise<ProcessCluster> {
  cluster = await startProcessCluster({ workers: 3, guilds: GUILDS, aiml: { generationMs }, env });
  return cluster;
}

describe('scale: 1 gateway and 3 workers as processes, on PostgreSQL and Redis', () => {
  it('delivers 200 requests from 20 servers exactly once, in the fair order', async () => {
    const c = await startScaleCluster();
    const started = Date.now();
    const asked = await run(c);
    const seconds = (Date.now() - started) / 1000;
    const rows = await settledLedger(c, asked.length);
    checkExactlyOnce(c, asked, rows);
    // The first 24 slots go to whoever reaches the line first, and the gateway reserves requests
    // concurrently (group commit, one lock per server), so a server's second request can reach the
    // line before another server's first: the last server's first track has come 29 to 33 places in
    // (bound 33 before). The gate's own order is checked exactly against the in-process gate in
    // test/queue/fair-gate.test.ts; here the bound only rules out a server left waiting.
    const worst = checkFairness(creationOrder(c), 3, 12);
    // Every worker took part.
    for (const worker of c.workers) expect(worker.logs.some((l) => l.msg === 'track delivered')).toBe(true);
    console.log(
      `scale: ${asked.length} delivered in ${seconds.toFixed(1)} s; all in line ${arrivalSpan(c, asked)}; ` +
        `largest lead between servers ${worst}`,
    );
  });

  it('loses and doubles nothing when a worker is SIGKILLed mid-run and restarted', async () => {
    const c = await startScaleCluster();
    const victim = c.workers[1];
    if (!victim) throw new Error('no second worker');
    // Downloads take 1 s, so that the kill lands while the victim holds deliveries: the test reads
    // the victim's log lines a little after it writes them, more so on a busy machine.
    for (let n = 0; n < 210; n++) c.aiml.script({ cdn: { delayMs: 1_000 } });
    const delivering = (line: Record<string, unknown>) =>
      line.msg === 'generation completed' &&
      !victim.logs.some((l) => l.msg === 'track delivered' && l.requestId === line.requestId);
    let killedAt = 0;
    let heldByVictim: unknown[] = [];
    const started = Date.now();
    const asked = await run(c, async (delivered) => {
      killedAt = delivered;
      await victim.waitForLog(delivering);
      await victim.kill('SIGKILL');
      // Read from everything the victim wrote before it died: the deliveries it had in hand.
      heldByVictim = victim.logs.filter(delivering).map((l) => l.requestId);
      await new Promise((resolve) => setTimeout(resolve, 500));
      c.workers.push(await c.startWorker());
    });
    const seconds = (Date.now() - started) / 1000;
    expect(victim.child.signalCode).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThanOrEqual(60);
    const rows = await settledLedger(c, asked.length);
    const resubmitted = checkExactlyOnce(c, asked, rows, (requestId) =>
      victim.logs.some((l) => l.msg === 'job accepted' && l.requestId === requestId),
    );
    // At most the submissions the killed worker had in hand; in most runs none.
    expect(resubmitted.length).toBeLessThanOrEqual(2);
    // The killed worker's jobs sat out its lock before another took them: a little more slack
    // between servers; the first starts have the same bound as the plain run (see there).
    const worst = checkFairness(creationOrder(c), 4, 12);
    const restarted = c.workers.at(-1);
    expect(restarted?.logs.some((l) => l.msg === 'track delivered')).toBe(true);
    const takenOver = c.workers
      .filter((w) => w !== victim)
      .flatMap((w) => w.logs.filter((l) => l.msg === 'took over a job whose worker stopped answering'));
    // The deliveries the victim was in the middle of were taken over and each finished by one other
    // worker. Other steps it held at the kill (most jobs sit parked, held by no worker) are a
    // matter of chance.
    expect(heldByVictim.length).toBeGreaterThan(0);
    const said = (w: (typeof c.workers)[number], requestId: unknown, messages: string[]) =>
      w.logs.some((l) => l.requestId === requestId && messages.includes(l.msg as string));
    for (const held of heldByVictim) {
      expect(takenOver.map((l) => l.requestId)).toContain(held);
      // (Had its edit reached Discord just before the kill, the successor finds it and only records it.)
      const finishedBy = c.workers.filter((w) =>
        said(w, held, ['track delivered', 'the reply already holds the track; recording the delivery']),
      );
      // Or the victim finished it, ledger and all, and died before its own line about it reached
      // its log: then the successor finds the request ended and does nothing.
      const foundEnded = c.workers.filter(
        (w) => w !== victim && said(w, held, ['the request has ended already; nothing to do']),
      );
      expect(finishedBy.length + foundEnded.length).toBe(1);
      expect(finishedBy[0]).not.toBe(victim);
    }
    console.log(
      `scale with a kill after ${killedAt} deliveries, mid-download: ${asked.length} delivered in ${seconds.toFixed(1)} s; ` +
        `${heldByVictim.length} deliveries in hand at the kill; ${takenOver.length} jobs taken over; ` +
        `${resubmitted.length} submitted twice (killed mid-submission); largest lead ${worst}`,
    );
  });
});
