import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord, type RecordedRequest } from '../fakes/discord.js';
import { music } from '../support/commands.js';
import { compileCacheEnv, entryPoint } from '../support/entry-points.js';
import { holdsOneTrack, isPictureEdit } from '../support/harness.js';
import { eventually } from '../support/log.js';

/**
 * Kills the bot with SIGKILL at every stage of a request's life, restarts it, and checks that each
 * request still ends with exactly one track in its own reply and one ledger row.
 *
 * The runs are shared among a few lanes, each a bot of its own with its own fakes and store, that
 * run side by side: most of a run is a process starting and waiting on its peers, so three lanes
 * take about a third of the time of one. With three lanes and five kill points, every lane meets
 * every point (twice in 30 runs).
 */
const killPoints = [
  'after-deferral',
  'after-submission',
  'while-polling',
  'during-download',
  'after-delivery',
] as const;
type KillPoint = (typeof killPoints)[number];
const RUNS = 30;
const LANES = 3;

interface Lane {
  discord: FakeDiscord;
  aiml: FakeAiml;
  dir: string;
  storeUrl: string;
  bot: ChildProcess | undefined;
}

const lanes: Lane[] = [];

beforeAll(async () => {
  for (let i = 0; i < LANES; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'tracksmith-crash-'));
    lanes.push({
      discord: await FakeDiscord.start(),
      aiml: await FakeAiml.start({ generationMs: 500, queuedMs: 50 }),
      dir,
      storeUrl: `sqlite://${join(dir, 'bot.sqlite')}`,
      bot: undefined,
    });
  }
});

afterAll(async () => {
  for (const lane of lanes) lane.bot?.kill('SIGKILL');
  await Promise.all(lanes.flatMap((lane) => [lane.discord.close(), lane.aiml.close()]));
  await Promise.all(lanes.map((lane) => rm(lane.dir, { recursive: true, force: true })));
});

async function startBot(lane: Lane): Promise<ChildProcess> {
  // The bot compiled to JavaScript and run by node itself, so that SIGKILL hits the bot process.
  const child = spawn(process.execPath, [await entryPoint('crashBot')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...compileCacheEnv,
      DISCORD_TOKEN: lane.discord.token,
      AIML_API_KEY: lane.aiml.apiKey,
      AIML_API_URL: lane.aiml.baseUrl,
      DISCORD_API_URL: lane.discord.apiUrl,
      DATABASE_URL: lane.storeUrl,
      // The token key file beside the store, not in the working tree.
      DATA_DIR: lane.dir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    // Three lanes restart bots side by side beside the rest of the suite: a start can take a while.
    const timer = setTimeout(() => fail(new Error('bot did not start within 60 s')), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => fail(new Error(`bot exited early with ${String(code)}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/** An edit Discord took that ended the job (not the waveform's edit that follows a track). */
const isFinalEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' &&
  r.path.includes(token) &&
  r.status === 200 &&
  ((r.body as { embeds?: unknown[] } | undefined)?.embeds?.length ?? 0) > 0 &&
  !isPictureEdit(token)(r);

/**
 * How long a request may take to reach a kill point before the run fails: three lanes restart bots
 * beside the rest of the suite, and on a slow machine a delivery has taken longer than 10 s.
 */
const REACH_WITHIN_MS = 30_000;

/** Resolves when this request (not another one resumed meanwhile) has reached `point`. */
async function reached(
  { discord, aiml }: Lane,
  point: KillPoint,
  interaction: { id: string; token: string },
  prompt: string,
) {
  // Every point comes after the deferral, by which time the request is in the ledger.
  await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${interaction.id}/`), REACH_WITHIN_MS);
  const job = () => [...aiml.jobs.values()].find((j) => j.prompt === prompt);
  switch (point) {
    case 'after-deferral':
      return;
    case 'after-submission':
      await eventually(() => job() !== undefined, REACH_WITHIN_MS);
      return;
    case 'while-polling':
      await eventually(() => {
        const id = job()?.id;
        return (
          id !== undefined &&
          aiml.requests.some((r) => r.route === 'poll' && r.query.get('generation_id') === id)
        );
      }, REACH_WITHIN_MS);
      return;
    case 'during-download':
      await eventually(() => {
        const url = job()?.audioUrl;
        return url !== undefined && aiml.requests.some((r) => r.route === 'cdn' && url.endsWith(r.path));
      }, REACH_WITHIN_MS);
      return;
    case 'after-delivery':
      await discord.waitForRequest(isFinalEdit(interaction.token), REACH_WITHIN_MS);
      return;
  }
}

describe('crash safety', () => {
  it(`SIGKILL at ${killPoints.length} points of a request's life, ${RUNS} runs: every request delivered exactly once`, async () => {
    const interactions: { lane: Lane; id: string; token: string; point: KillPoint }[] = [];
    /** Run number `run` on `lane`: a request, a kill where it says, and a fresh bot. */
    const crashRun = async (lane: Lane, run: number) => {
      const point = killPoints[run % killPoints.length]!;
      // Hold the file back for a moment so the kill lands mid-download.
      if (point === 'during-download') lane.aiml.script({ cdn: { stallMs: 400 } });
      const prompt = `crash run ${run}`;
      const interaction = music(lane.discord, prompt, {
        user: { id: `2000000000000020${String(run).padStart(2, '0')}`, username: `member${run}` },
      });
      interactions.push({ lane, ...interaction, point });
      await reached(lane, point, interaction, prompt);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      await kill(lane.bot!);
      lane.bot = await startBot(lane);
    };
    await Promise.all(
      lanes.map(async (lane, index) => {
        lane.bot = await startBot(lane);
        for (let run = index; run < RUNS; run += LANES) await crashRun(lane, run);
      }),
    );

    for (const { lane, token } of interactions) await lane.discord.waitForRequest(isFinalEdit(token), 30_000);
    // The ledger is written just after each final edit: let the last bots finish before stopping them.
    const rows = (
      await Promise.all(
        lanes.map(async (lane) => {
          const store = await openDatabase({ url: lane.storeUrl, dataDir: lane.dir });
          try {
            const readLedger = () => store.db.selectFrom('usage').selectAll().execute();
            await eventually(async () => (await readLedger()).every((r) => r.status === 'completed'));
            await kill(lane.bot!);
            lane.bot = undefined;
            return await readLedger();
          } finally {
            await store.close();
          }
        }),
      )
    ).flat();

    for (const { lane, token, point } of interactions) {
      const message = lane.discord.originalResponse(token);
      expect(holdsOneTrack(message), `run ${point}`).toBe(true);
      expect((message?.embeds[0] as { title?: string } | undefined)?.title).toMatch(/^🎵 Track #\d+$/);
    }
    // Nothing was posted outside the replies: no duplicates in the channel.
    const channelPosts = lanes.flatMap(({ discord }) =>
      discord.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/channels/')),
    );
    expect(channelPosts).toEqual([]);

    expect(rows).toHaveLength(RUNS);
    expect(new Set(rows.map((r) => r.prompt)).size).toBe(RUNS);
    expect(rows.every((r) => r.status === 'completed' && r.interaction_token === null)).toBe(true);

    const summary = killPoints.map((point) => {
      const runs = interactions.filter((i) => i.point === point);
      const edits = runs.map((i) => i.lane.discord.requests.filter(isFinalEdit(i.token)).length);
      return `${point}: ${runs.length} runs, delivered ${runs.length}/${runs.length}, final edits per reply ${Math.min(...edits)}-${Math.max(...edits)}`;
    });
    const creates = lanes
      .flatMap(({ aiml }) => aiml.requests)
      .filter((r) => r.route === 'create' && r.status === 200).length;
    console.log(
      `crash test: ${RUNS} kills in ${LANES} lanes\n  ${summary.join('\n  ')}\n  provider submissions: ${creates} for ${RUNS} requests`,
    );
  }, 240_000);
});
