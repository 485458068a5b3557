import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { FakeAiml, type FakeAimlOptions } from '../fakes/aiml.js';
import { FakeDiscord, type FakeDiscordOptions, type RecordedRequest } from '../fakes/discord.js';
import { FakeVoiceServer } from '../fakes/voice.js';
import { captureLogs, eventually, logTail } from './log.js';
import { fastOptions } from './fast-options.js';
import { createTestRedisSpace } from './redis.js';

export { fastOptions };

export interface Harness {
  discord: FakeDiscord;
  aiml: FakeAiml;
  /** The fake voice server, when the harness was started with `voice: true`. */
  voice: FakeVoiceServer | undefined;
  app: App;
  config: Config;
  logs: ReturnType<typeof captureLogs>;
  /** Stops the bot and starts a fresh one on the same store, fakes and configuration. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a fake Discord and a fake AIML API on loopback and the real bot between them, wired by
 * `createApp` exactly as in production; only URLs, secrets and timings differ.
 */
export async function startHarness(
  options: {
    /** Extra environment; a function gets the started fakes (for their addresses and secrets). */
    env?:
      Record<string, string> | ((fakes: { discord: FakeDiscord; aiml: FakeAiml }) => Record<string, string>);
    app?: AppOptions;
    discord?: FakeDiscordOptions;
    aiml?: FakeAimlOptions;
    /** Keep the store in a temporary file (removed on close), so that a restart finds it. */
    fileStore?: boolean;
    /** Run the jobs on the Redis queue, in a key space of the test's own (dropped on close). */
    redis?: boolean;
    /** Start a fake voice server (TLS, UDP) that the fake Discord's op 4 points the bot at. */
    voice?: boolean;
  } = {},
): Promise<Harness> {
  const dir = options.fileStore ? await mkdtemp(join(tmpdir(), 'tracksmith-e2e-')) : undefined;
  // `TEST_QUEUE=redis npx vitest run test/e2e` runs the end-to-end suite on the Redis queue.
  const onRedis = options.redis ?? process.env.TEST_QUEUE === 'redis';
  const redis = onRedis ? createTestRedisSpace() : undefined;
  const voice = options.voice ? await FakeVoiceServer.start() : undefined;
  const discord = await FakeDiscord.start({ ...options.discord, ...(voice ? { voice } : {}) });
  const aiml = await FakeAiml.start(options.aiml);
  const config = loadConfig({
    DISCORD_TOKEN: discord.token,
    AIML_API_KEY: aiml.apiKey,
    AIML_API_URL: aiml.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    LOG_LEVEL: 'debug',
    DATABASE_URL: dir === undefined ? 'sqlite::memory:' : `sqlite://${join(dir, 'bot.sqlite')}`,
    // The token key file goes beside the store, not into the working tree.
    ...(dir === undefined ? {} : { DATA_DIR: dir }),
    ...redis?.env,
    // A stop that cannot finish its steps within its bound leaves them to their locks (as in
    // production); 30 s of lock would outlast the test that restarts.
    ...(redis ? { QUEUE_LOCK_SECONDS: '3' } : {}),
    ...(typeof options.env === 'function' ? options.env({ discord, aiml }) : options.env),
  });
  const logs = captureLogs();
  // A failure in CI is read from its output alone: the bot's last lines say where it stood. (A
  // harness started in beforeAll, as the web tests do, has no test to hook; vitest throws there.)
  try {
    onTestFailed(() => {
      console.error(`the bot's last log lines:\n${logTail(logs.lines)}`);
    });
  } catch {
    // Outside a test: nothing to report to.
  }
  const app = await createApp(config, { ...fastOptions, ...options.app, logger: logs.logger });
  await app.start();
  const harness: Harness = {
    discord,
    aiml,
    voice,
    app,
    config,
    logs,
    async restart() {
      await harness.app.stop();
      harness.app = await createApp(config, { ...fastOptions, ...options.app, logger: logs.logger });
      await harness.app.start();
    },
    async close() {
      await harness.app.stop();
      await Promise.all([discord.close(), aiml.close(), voice?.close(), redis?.drop()]);
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** An interaction's acknowledgement (its callback): this token's, or any when none is given. */
export const isCallback = (token?: string) => (r: RecordedRequest) =>
  r.method === 'POST' && r.path.endsWith(token === undefined ? '/callback' : `/${token}/callback`);

/** The edit that adds a delivered track's waveform: the picture is its one upload. */
export const isPictureEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' &&
  r.path.endsWith(`/${token}/messages/@original`) &&
  r.files.length === 1 &&
  r.files[0]?.contentType === 'image/png';

/**
 * The edit that ends a job in its reply: the first one with an embed (progress edits carry text
 * only), leaving out the waveform's edit that follows a track.
 */
export const isFinalEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' &&
  r.path.endsWith(`/${token}/messages/@original`) &&
  ((r.body as { embeds?: unknown[] } | undefined)?.embeds?.length ?? 0) > 0 &&
  !isPictureEdit(token)(r);

/** What a delivered track's final edit uploads: the mp3 (its waveform follows in an edit of its own). */
export const TRACK_FILE_TYPES = ['audio/mpeg'];

/** A track message once its waveform is on: the mp3, then the picture (the embed's image). */
export const TRACK_ATTACHMENT_TYPES = ['audio/mpeg', 'image/png'];

/**
 * Whether a message carries one track: its mp3, with or without the waveform. A process killed
 * between the two edits leaves the track without its picture, and the restarted bot does not
 * deliver a track the reply already holds.
 */
export const holdsOneTrack = (message: { attachments: { content_type?: string }[] } | undefined) => {
  const types = message?.attachments.map((a) => a.content_type) ?? [];
  // The mp3 alone, or the mp3 and then its picture: a prefix of the finished message's attachments.
  return (
    types.length >= TRACK_FILE_TYPES.length &&
    types.length <= TRACK_ATTACHMENT_TYPES.length &&
    types.every((type, i) => type === TRACK_ATTACHMENT_TYPES[i])
  );
};

/**
 * Resolves once the bot has finished handling `interaction` (the router's last log line for it):
 * from then on nothing more comes of it, unless it queued a job.
 */
export async function handled(h: Harness, interaction: { id: string }): Promise<void> {
  await eventually(() =>
    h.logs.lines.some((l) => l.msg === 'interaction handled' && l.interactionId === interaction.id),
  );
}
