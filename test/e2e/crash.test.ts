import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord, type RecordedRequest } from '../fakes/discord.js';
import { eventually } from '../support/log.js';

/**
 * Kills the bot with SIGKILL at every stage of a request's life, restarts it, and checks that each
 * request still ends with exactly one track in its own reply and one ledger row.
 */
const root = resolve(import.meta.dirname, '../..');
const killPoints = [
  'after-deferral',
  'after-submission',
  'while-polling',
  'during-download',
  'after-delivery',
] as const;
type KillPoint = (typeof killPoints)[number];
const RUNS = 30;

let discord: FakeDiscord;
let aiml: FakeAiml;
let dir: string;
let bot: ChildProcess | undefined;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  aiml = await FakeAiml.start({ generationMs: 500, queuedMs: 50 });
  dir = await mkdtemp(join(tmpdir(), 'tracksmith-crash-'));
});

afterAll(async () => {
  bot?.kill('SIGKILL');
  await Promise.all([discord.close(), aiml.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function startBot(): Promise<ChildProcess> {
  // node itself with tsx as a loader (not the tsx wrapper), so that SIGKILL hits the bot process.
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/crash/bot-process.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: aiml.apiKey,
      AIML_API_URL: aiml.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
      DATABASE_URL: `sqlite://${join(dir, 'bot.sqlite')}`,
      // The token key file beside the store, not in the working tree.
      DATA_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error('bot did not start within 20 s')), 20_000);
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

const isFinalEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' &&
  r.path.includes(token) &&
  r.status === 200 &&
  ((r.body as { embeds?: unknown[] } | undefined)?.embeds?.length ?? 0) > 0;

/** Resolves when this request (not another one resumed meanwhile) has reached `point`. */
async function reached(point: KillPoint, interaction: { id: string; token: string }, prompt: string) {
  // Every point comes after the deferral, by which time the request is in the ledger.
  await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${interaction.id}/`));
  const job = () => [...aiml.jobs.values()].find((j) => j.prompt === prompt);
  switch (point) {
    case 'after-deferral':
      return;
    case 'after-submission':
      await eventually(() => job() !== undefined, 10_000);
      return;
    case 'while-polling':
      await eventually(() => {
        const id = job()?.id;
        return (
          id !== undefined &&
          aiml.requests.some((r) => r.route === 'poll' && r.query.get('generation_id') === id)
        );
      }, 10_000);
      return;
    case 'during-download':
      await eventually(() => {
        const url = job()?.audioUrl;
        return url !== undefined && aiml.requests.some((r) => r.route === 'cdn' && url.endsWith(r.path));
      }, 10_000);
      return;
    case 'after-delivery':
      await discord.waitForRequest(isFinalEdit(interaction.token), 10_000);
      return;
  }
}

describe('crash safety', () => {
  it(`SIGKILL at ${killPoints.length} points of a request's life, ${RUNS} runs: every request delivered exactly once`, async () => {
    bot = await startBot();
    const interactions: { id: string; token: string; point: KillPoint }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const point = killPoints[run % killPoints.length]!;
      // Hold the file back for a moment so the kill lands mid-download.
      if (point === 'during-download') aiml.script({ cdn: { stallMs: 400 } });
      const prompt = `crash run ${run}`;
      const interaction = discord.chatInput({
        name: 'music',
        user: { id: `2000000000000020${String(run).padStart(2, '0')}`, username: `member${run}` },
        options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt }],
      });
      interactions.push({ ...interaction, point });
      await reached(point, interaction, prompt);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      await kill(bot);
      bot = await startBot();
    }

    for (const interaction of interactions)
      await discord.waitForRequest(isFinalEdit(interaction.token), 30_000);
    // The ledger is written just after each final edit: let the last bot finish before stopping it.
    const store = await openDatabase({ url: `sqlite://${join(dir, 'bot.sqlite')}`, dataDir: dir });
    const readLedger = () => store.db.selectFrom('usage').selectAll().execute();
    let rows = await readLedger();
    for (let tries = 0; tries < 200 && !rows.every((r) => r.status === 'completed'); tries++) {
      await new Promise((r) => setTimeout(r, 25));
      rows = await readLedger();
    }
    await kill(bot);
    bot = undefined;
    rows = await readLedger();
    await store.close();

    for (const interaction of interactions) {
      const message = discord.originalResponse(interaction.token);
      expect(message?.attachments, `run ${interaction.point}`).toHaveLength(1);
      expect((message?.embeds[0] as { title?: string } | undefined)?.title).toMatch(/^🎵 Track #\d+$/);
    }
    // Nothing was posted outside the replies: no duplicates in the channel.
    expect(discord.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/channels/'))).toEqual(
      [],
    );

    expect(rows).toHaveLength(RUNS);
    expect(new Set(rows.map((r) => r.prompt)).size).toBe(RUNS);
    expect(rows.every((r) => r.status === 'completed' && r.interaction_token === null)).toBe(true);

    const summary = killPoints.map((point) => {
      const runs = interactions.filter((i) => i.point === point);
      const edits = runs.map((i) => discord.requests.filter(isFinalEdit(i.token)).length);
      return `${point}: ${runs.length} runs, delivered ${runs.length}/${runs.length}, final edits per reply ${Math.min(...edits)}-${Math.max(...edits)}`;
    });
    const creates = aiml.requests.filter((r) => r.route === 'create' && r.status === 200).length;
    console.log(
      `crash test: ${RUNS} kills\n  ${summary.join('\n  ')}\n  provider submissions: ${creates} for ${RUNS} requests`,
    );
  }, 240_000);
});
