import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord } from '../fakes/discord.js';
import { isFinalEdit, TRACK_FILE_TYPES } from '../support/harness.js';
import { eventually } from '../support/log.js';
import { spawnBot, type BotProcess } from '../support/processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('the crash window between the provider and the ledger', () => {
  it('a bot killed while its POST is in flight resubmits on restart, and counts and logs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracksmith-resubmit-'));
    const discord = await FakeDiscord.start();
    const aiml = await FakeAiml.start({ generationMs: 200 });
    cleanups.push(
      () => discord.close(),
      () => aiml.close(),
      () => rm(dir, { recursive: true, force: true }),
    );
    const env = {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: aiml.apiKey,
      AIML_API_URL: aiml.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
      DATABASE_URL: `sqlite://${join(dir, 'bot.sqlite')}`,
      DATA_DIR: dir,
      HTTP_PORT: '0',
      LOG_LEVEL: 'debug',
    };
    const track = (bot: BotProcess) => {
      cleanups.push(() => bot.kill('SIGKILL'));
      return bot;
    };
    const first = track(await spawnBot('all', env));
    // The provider takes the job and is slow to answer: the bot dies before it hears back.
    aiml.failNext('create', { delayMs: 3_000 });
    const interaction = discord.chatInput({
      name: 'music',
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'cut short' }],
    });
    await eventually(() => aiml.requests.some((r) => r.route === 'create'));
    await first.kill('SIGKILL');

    const second = track(await spawnBot('all', env));
    const final = await discord.waitForRequest(isFinalEdit(interaction.token), 20_000);
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    // Sent twice (the provider may charge twice), and said so: a warning and a metric.
    expect(aiml.requests.filter((r) => r.route === 'create')).toHaveLength(2);
    await second.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('submitting again'));
    const warning = second.logs.find(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('submitting again'),
    );
    expect(warning?.level).toBe(40);
    const serving = second.logs.find((l) => l.msg === 'serving /healthz and /metrics');
    const metrics = await (await fetch(`${String(serving?.url)}/metrics`)).text();
    expect(metrics).toMatch(/^tracksmith_resubmissions_total 1$/m);
    // The member still has exactly one track, in the one reply.
    expect(discord.originalResponse(interaction.token)?.attachments.map((a) => a.content_type)).toEqual(
      TRACK_FILE_TYPES,
    );
  });
});
