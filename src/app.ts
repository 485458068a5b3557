import { randomBytes, randomUUID } from 'node:crypto';
import { Events, InteractionType, REST, RESTEvents, Status, type Client, type RESTOptions } from 'discord.js';
import { sql } from 'kysely';
import pTimeout from 'p-timeout';
import { handlers as allHandlers } from '../commands/index.js';
import { createChatClient } from './aiml/chat.js';
import { createAimlClient, type RetryOptions } from './aiml/client.js';
import type { Config, Role } from './config.js';
import type { Handlers } from './discord/command.js';
import { createDiscordClient } from './discord/client.js';
import { createDiscordReporter, type NetworkRetryOptions } from './discord/deliver.js';
import { createFrameGuard } from './discord/frame-guard.js';
import { createRouter, type Router } from './discord/router.js';
import { createDownloader } from './generation/download.js';
import { DurationModel, type DurationModelOptions } from './generation/durations.js';
import { Lull } from './generation/lull.js';
import {
  systemClock,
  type Clock,
  type Job,
  type JobLedger,
  type JobQueue,
  type QueueBackend,
} from './generation/ports.js';
import { defaultSchedule, type ScheduleOptions } from './generation/schedule.js';
import { lineageFor } from './generation/lineage.js';
import { createInProcessBackend } from './generation/in-process-backend.js';
import { createJobIntake } from './generation/intake.js';
import { createRedisBackend } from './generation/redis/backend.js';
import { JobSteps } from './generation/steps.js';
import { createReserver, reserveDraft } from './limits/reserve.js';
import { createLyricsWriter } from './songwriting/lyrics.js';
import { createPopularStyles, MAX_CHOICES } from './songwriting/styles.js';
import { createSongwritingRepository } from './store/songwriting-repository.js';
import { followGuildConcurrency } from './limits/guild-concurrency.js';
import { createSettingsService } from './limits/settings-service.js';
import { DEFAULT_UPLOAD_LIMIT_BYTES } from './discord/limits.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { instrumentProvider } from './observability/instrument.js';
import { createMetrics } from './observability/metrics.js';
import { openDatabase, type Database } from './store/db.js';
import { StoreHealth } from './store/health.js';
import { isInMemoryStore } from './store/store-url.js';
import { createTokenCipher, keyFromFile, type TokenCipher } from './store/token-cipher.js';
import { stateFromRecords } from './generation/job.js';
import { createSettingsRepository } from './store/settings-repository.js';
import { createTracksRepository } from './store/tracks-repository.js';
import { createWebRepository } from './store/web-repository.js';
import { encodePeaks } from './audio/waveform.js';
import { createAccessChecker } from './web/access.js';
import { startWebServer, type WebServer } from './web/server.js';
import { songDetailsOf } from './domain/song.js';
import { parentOf, type TrackRecord } from './domain/track.js';
import { createUsageRepository, isUnfinished } from './store/usage-repository.js';
import { createVoiceRepository } from './store/voice-repository.js';
import { VoiceManager, type VoiceTimings } from './voice/manager.js';

/** Knobs that are not configuration but that tests and benchmarks need to turn. */
export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  schedule?: Partial<ScheduleOptions>;
  providerRetry?: Partial<RetryOptions>;
  download?: { timeoutMs?: number; retries?: number; minRetryDelayMs?: number };
  discordRest?: Partial<RESTOptions>;
  /** New tries of a final edit that Discord never answered (default 2, after 1 s and 4 s). */
  discordNetworkRetry?: NetworkRetryOptions;
  maxConcurrentPolls?: number;
  durations?: Partial<DurationModelOptions>;
  /** How long follow-on work waits for a burst's acknowledgements (see `generation/lull.ts`). */
  lull?: { settleMs?: number; maxWaitMs?: number };
  progressIntervalMs?: number;
  handlers?: Handlers;
  /** How long a gateway waits for Redis to take a request (default 10 s). */
  enqueueTimeoutMs?: number;
  /** Tries a request's queue steps get before a worker gives up on it (default 12, from 1 s apart). */
  queueRetry?: { attempts?: number; firstDelayMs?: number };
  /** Waits between tries of a ledger write that must land (default 200 ms doubling to 5 s). */
  ledgerRetry?: { minTimeoutMs?: number; maxTimeoutMs?: number };
  /** How often an unreachable store is probed (default 1 s). */
  storeProbeIntervalMs?: number;
  /** The web side's rate limits per client address (default 10 sign-ins and 30 posts a minute). */
  webLimits?: { signInPerMinute: number; postsPerMinute: number };
  /** Listening sessions: when the bot leaves by itself (tests shorten them). */
  voice?: Partial<VoiceTimings>;
  /** How long a stop waits for the interactions being handled before closing the queue (3 s). */
  handlersWaitMs?: number;
}

export interface App {
  readonly role: Role;
  /** The gateway connection; a worker has none. */
  readonly client: Client | undefined;
  readonly logger: Logger;
  readonly queue: JobQueue;
  readonly database: Database;
  /** Where `/healthz` and `/metrics` are served, once started with `HTTP_PORT`. */
  readonly httpUrl: string | undefined;
  /** The web side's public address, once started with `WEB_PORT`. */
  readonly webUrl: string | undefined;
  /** Where the web side listens (behind a proxy, not the public address). */
  readonly webLocalUrl: string | undefined;
  /** Listening sessions; a worker has none. */
  readonly voice: VoiceManager | undefined;
  /** Connects to Discord (and Redis); resolves once the gateway session is ready. */
  start(): Promise<void>;
  /** Stops taking commands, stops tracking, waits for in-flight writes, then disconnects and closes the store. */
  stop(): Promise<void>;
}

/** Builds the whole object graph once; nothing below here reaches for a global. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const base = options.logger ?? createLogger(config.LOG_LEVEL);
  // With several processes writing to one log store, each line says which kind wrote it.
  const logger = config.ROLE === 'all' ? base : base.child({ role: config.ROLE });
  const clock = options.clock ?? systemClock;
  const connectionFaults: { report?: (error: Error) => void } = {};
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    onConnectionError: (error) => {
      logger.warn({ err: error }, 'a store connection broke; it will be replaced');
      // Often the first sign of a restart or failover: the health flag checks and comes back by itself.
      connectionFaults.report?.(error);
    },
  });
  logger.info({ store: database.location }, 'store ready');
  if (config.ROLE !== 'all' && database.dialect === 'sqlite') {
    // A gateway and a worker on separate hosts would each see a ledger of their own: the worker
    // would find no row for the gateway's requests and drop them.
    logger.warn(
      { store: database.location },
      'the store is SQLite: every gateway and worker must run on this host and open this file; use PostgreSQL (DATABASE_URL=postgres://…) across hosts',
    );
  }
  const tokens = await tokenCipher(config, logger);
  const storeHealth = new StoreHealth({
    // On SQLite a write needs the file's write lock, which another process may hold: a statement
    // that writes nothing still has to take it.
    probe: async () => {
      if (database.dialect === 'sqlite') await sql`update usage set id = id where 1 = 0`.execute(database.db);
      else await sql`select 1`.execute(database.db);
    },
    ...(options.storeProbeIntervalMs === undefined ? {} : { probeIntervalMs: options.storeProbeIntervalMs }),
    onDown: (error) =>
      logger.error(
        { err: error },
        'the store is unreachable; jobs wait for it, new requests are turned away',
      ),
    onUp: (downForMs) => logger.info({ downForMs }, 'the store is back'),
  });
  connectionFaults.report = (error) => storeHealth.failed(error);
  const settings = createSettingsRepository(database.db);
  const usage = createUsageRepository(database.db);
  const tracks = createTracksRepository(database.db);
  const songwriting = createSongwritingRepository(database.db);
  const webStore = createWebRepository(database.db);
  const ledger: JobLedger = {
    submitting: (job) => usage.markSubmitting(job.id, clock.now()),
    submitted: async (job) => {
      if (job.state.phase !== 'submitted')
        throw new Error(`ledger: a ${job.state.phase} job is not submitted`);
      await usage.markSubmitted(job.id, job.state.generationId, job.state.submittedAt);
    },
    numbered: (job) => tracks.assignNumber(job.id),
    completed: (job, delivery) =>
      usage.markCompleted(
        job.id,
        {
          creditsUsed: job.creditsUsed ?? null,
          delivery,
          actualSeconds: job.actualSeconds,
          generationMs: job.generationMs,
        },
        clock.now(),
      ),
    failed: (job, reason) => usage.markFailed(job.id, reason, job.creditsUsed ?? null, clock.now()),
    cancelled: (job) => usage.markCancelled(job.id, job.cancelledBy ?? job.origin.userId, clock.now()),
    abandoned: (id, reason) => usage.markFailed(id, reason, null, clock.now()),
    replyMessage: (job, messageId) => usage.setReplyMessage(job.id, messageId),
  };
  const settingsService = createSettingsService({ repository: settings });
  // The in-process gate asks synchronously; settings changes, reservations and resumed jobs keep this current.
  const concurrency = followGuildConcurrency(settingsService);
  const timeoutMs = config.GENERATION_TIMEOUT_SECONDS * 1000;
  const role = config.ROLE;

  const metrics = createMetrics(role);
  const provider = instrumentProvider(
    createAimlClient({
      baseUrl: config.AIML_API_URL,
      apiKey: config.AIML_API_KEY,
      logger: logger.child({ component: 'aiml' }),
      onRetry: () => metrics.providerRetry('create'),
      ...(options.providerRetry ? { retry: options.providerRetry } : {}),
    }),
    metrics,
  );
  // Learned from the store's recent tracks at start, then from every track that completes.
  const durations = new DurationModel(options.durations);
  const schedule = {
    ...defaultSchedule,
    targetLagMs: config.POLL_TARGET_LAG_SECONDS * 1000,
    ...options.schedule,
  };
  const progressIntervalMs = options.progressIntervalMs ?? 3_000;
  const download = createDownloader({
    logger: logger.child({ component: 'download' }),
    timeoutMs: options.download?.timeoutMs ?? 60_000,
    retries: options.download?.retries ?? 2,
    ...(options.download?.minRetryDelayMs === undefined
      ? {}
      : { minRetryDelayMs: options.download.minRetryDelayMs }),
    // The provider's own host may serve files over plain http (a local proxy, or the test fakes).
    plainHttpHosts: [new URL(config.AIML_API_URL).host],
  });
  // A worker talks to Discord over REST only; the gateway connection belongs to the other roles.
  const client =
    role === 'worker'
      ? undefined
      : createDiscordClient({
          apiUrl: config.DISCORD_API_URL,
          ...(config.SHARD_COUNT === undefined ? {} : { shards: config.SHARD_COUNT }),
          logger: logger.child({ component: 'discord' }),
          ...(options.discordRest ? { rest: options.discordRest } : {}),
        });
  const voice =
    client &&
    new VoiceManager({
      client,
      store: createVoiceRepository(database.db),
      tracks,
      logger: logger.child({ component: 'voice' }),
      timings: options.voice ?? {},
    });
  const rest =
    client?.rest ??
    new REST({ ...options.discordRest, api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
  // The deferred reply's edits use the interaction token, which Discord keeps outside the bot's
  // global limit of 50 requests a second; discord.js would count them in it, capping one process at
  // about ten deliveries a second. Per-route limits still apply, from Discord's headers.
  const interactionRest = new REST({
    ...options.discordRest,
    api: config.DISCORD_API_URL,
    globalRequestsPerSecond: 100_000,
  });
  const restLogger = logger.child({ component: 'discord' });
  for (const each of [rest, interactionRest]) {
    each.on(RESTEvents.Response, (_request, response) => metrics.discordResponse(response.status));
    each.on(RESTEvents.RateLimited, (info) => {
      restLogger.warn(
        { route: info.route, retryAfter: info.retryAfter, global: info.global },
        'Discord rate limit hit',
      );
    });
  }
  /** Every delivered track goes to the voice side: here, or the gateway's process through the relay. */
  const trackDelivered = async (job: Job) => {
    const track = { guildId: job.origin.guildId, trackId: job.id, userId: job.origin.userId };
    try {
      // `backend` is built below; this runs only once a job delivers, long after.
      if (voice) await voice.trackDelivered(track);
      else await backend.relay?.publish(track);
    } catch (error) {
      // The member has the track already; missing the radio must not fail the delivery.
      logger.warn({ err: error, requestId: job.id }, 'could not queue the track for voice');
    }
  };
  // Follow-on work (the in-process queue's, the waveforms) waits while interactions are being
  // acknowledged.
  const lull = new Lull({
    clock,
    settleMs: options.lull?.settleMs ?? 20,
    // Long enough for a burst's acknowledgements on a loaded host (500 of them took up to 2 s in
    // the bench); shorter, the first jobs' submissions start while later members still wait.
    maxWaitMs: options.lull?.maxWaitMs ?? 2_000,
  });
  const reporter = createDiscordReporter({
    rest,
    interactionRest,
    logger: logger.child({ component: 'deliver' }),
    clock,
    acknowledged: () => lull.quiet(),
    rememberTrackMedia: (job, media) =>
      webStore.rememberMedia(job.id, job.origin.guildId, {
        channelId: media.channelId,
        messageId: media.messageId,
        audioUrl: media.audio?.url ?? null,
        audioName: media.audio?.name ?? null,
        audioBytes: media.audio?.bytes ?? null,
      }),
    rememberTrackPeaks: (job, peaks) => webStore.rememberPeaks(job.id, encodePeaks(peaks)),
    ...(options.discordNetworkRetry === undefined ? {} : { networkRetry: options.discordNetworkRetry }),
    afterDelivered: trackDelivered,
  });
  const steps = new JobSteps({
    provider,
    download,
    reporter,
    ledger,
    clock,
    timeoutMs,
    maxConcurrentDeliveries: config.MAX_CONCURRENT_DELIVERIES,
    storeWatch: storeHealth,
    observer: metrics,
    ...(options.ledgerRetry === undefined ? {} : { ledgerRetry: options.ledgerRetry }),
  });

  /** The request's ledger row while it is still to be made; undefined once it has ended. */
  const openRow = async (id: string) => {
    const row = await usage.get(id);
    return row && isUnfinished(row) ? row : undefined;
  };
  // The one place that knows which queue this is; the rest of the app only starts, stops and asks.
  const backend: QueueBackend =
    config.REDIS_URL === undefined
      ? createInProcessBackend({
          steps,
          tracker: {
            provider,
            clock,
            logger: logger.child({ component: 'tracker' }),
            schedule,
            timeoutMs,
            maxConcurrentPolls: options.maxConcurrentPolls ?? 32,
            durations,
            ...(config.POLL_RATE_LIMIT === undefined ? {} : { pollRateLimit: config.POLL_RATE_LIMIT }),
          },
          globalLimit: config.MAX_CONCURRENT_GENERATIONS,
          guildLimit: (guildId) => concurrency.of(guildId),
          clock,
          logger: logger.child({ component: 'generation' }),
          progressIntervalMs,
          observer: metrics,
          lull,
        })
      : createRedisBackend({
          redis: {
            url: config.REDIS_URL,
            prefix: config.REDIS_PREFIX,
            globalLimit: config.MAX_CONCURRENT_GENERATIONS,
            ...(options.enqueueTimeoutMs === undefined ? {} : { enqueueTimeoutMs: options.enqueueTimeoutMs }),
            ...(options.queueRetry === undefined ? {} : { stepRetry: options.queueRetry }),
          },
          logger,
          relayLogger: logger.child({ component: 'voice' }),
          isOpen: async (id) => (await openRow(id)) !== undefined,
          worker:
            role === 'gateway'
              ? undefined
              : {
                  steps,
                  provider,
                  load: async (id) => {
                    const job = await storeHealth.watch(
                      openRow(id).then(
                        async (row) => row && jobFromRow(row, await parentRow(row), openToken),
                      ),
                    );
                    storeHealth.succeeded();
                    return job;
                  },
                  guildLimit: async (guildId) => (await settings.get(guildId)).concurrent,
                  clock,
                  logger: logger.child({ component: 'worker' }),
                  schedule,
                  durations,
                  timeoutMs,
                  progressIntervalMs,
                  concurrency: config.WORKER_CONCURRENCY,
                  lockMs: config.QUEUE_LOCK_SECONDS * 1000,
                  ...(config.POLL_RATE_LIMIT === undefined ? {} : { rateLimit: config.POLL_RATE_LIMIT }),
                  observer: metrics,
                },
        });
  const queue: JobQueue = backend.queue;
  metrics.bind({ depth: () => queue.depth() });

  const reserveInLine = createReserver(database.db);
  const popularStyles = createPopularStyles({
    load: (guildId, since) => tracks.topStyles(guildId, since, MAX_CHOICES),
    now: () => clock.now(),
  });
  const lyrics = createLyricsWriter({
    chat: createChatClient({
      baseUrl: config.AIML_API_URL,
      apiKey: config.AIML_API_KEY,
      model: config.AIML_LYRICS_MODEL,
      logger: logger.child({ component: 'aiml-chat' }),
      onRetry: () => metrics.providerRetry('chat'),
      ...(options.providerRetry ? { retry: options.providerRetry } : {}),
    }),
    blockedWords: (guildId) => settings.blockedWords(guildId),
    creditsPerToken: config.AIML_LYRICS_CREDITS_PER_TOKEN,
    observe: (outcome) => metrics.lyricsDraft(outcome),
  });
  const frameGuard = createFrameGuard((details) =>
    logger.warn({ component: 'discord', ...details }, 'malformed interaction frame; it will be refused'),
  );
  // The raw event carries the very frame discord.js is about to build an interaction from.
  client?.on(Events.Raw, (packet: unknown) => frameGuard.inspect(packet));
  const router: Router | undefined =
    client &&
    voice &&
    createRouter(
      options.handlers ?? allHandlers,
      {
        jobs: createJobIntake({ queue, ledger, logger: logger.child({ component: 'generation' }) }),
        settings,
        usage,
        tracks,
        songwriting,
        lyrics,
        popularStyles,
        reserveDraft: (request) =>
          storeHealth.watch(reserveDraft(database.db, { ...request, now: clock.now() })),
        logger,
        now: () => clock.now(),
        newId: randomUUID,
        storeAvailable: () => storeHealth.up,
        async reserve(request) {
          const sealed = {
            ...request,
            reply: { ...request.reply, interactionToken: tokens.seal(request.reply.interactionToken) },
          };
          const reservation = await storeHealth.watch(reserveInLine({ ...sealed, now: clock.now() }));
          if (reservation.ok) concurrency.seen(request.guildId, reservation.settings);
          return reservation;
        },
        settingsService,
        voice,
      },
      { frameGuard },
    );
  client?.on(Events.InteractionCreate, (interaction) => {
    metrics.interaction(InteractionType[interaction.type]);
    const answered = lull.busy();
    void router?.handle(interaction).finally(answered);
  });
  let http: HttpServer | undefined;
  let web: WebServer | undefined;
  let stopRelay: (() => Promise<void>) | undefined;

  /** The stored token, opened; one that cannot be opened (another key) leaves the channel route. */
  const openToken = (row: TrackRecord): string => {
    if (row.interactionToken === null) return '';
    try {
      return tokens.open(row.interactionToken);
    } catch (error) {
      logger.error(
        { err: error, requestId: row.id },
        'a stored interaction token does not open with this key; the reply is reached through the channel instead',
      );
      return '';
    }
  };

  const parentRow = (row: TrackRecord) =>
    row.parentId === null ? Promise.resolve(undefined) : tracks.get(row.parentId);

  /** Picks up what an earlier process accepted and did not finish. */
  const resumeUnfinished = async () => {
    const unfinished = await usage.unfinished();
    // Resumed jobs wait in line under their server's own `concurrent`, like new ones. (Only the
    // in-process gate reads these; the Redis gate's workers read the setting at each admission.)
    if (queue.kind === 'in-process') await concurrency.load(unfinished.map((row) => row.guildId));
    for (const row of unfinished) await queue.enqueue(jobFromRow(row, await parentRow(row), openToken));
    if (unfinished.length > 0) logger.info({ jobs: unfinished.length }, 'resumed unfinished requests');
  };

  const health = async () => {
    const gateway = client && (client.ws.status === Status.Ready ? 'connected' : 'disconnected');
    // Down when a write the bot needed failed, even if a read would still pass (SQLite locked).
    const store = !storeHealth.up
      ? 'unreachable'
      : await sql`select 1`
          .execute(database.db)
          .then(() => 'ok')
          .catch(() => 'unreachable');
    // What the queue runs on (Redis, when it is shared).
    const services = await backend.health();
    const depth = await queue.depth().catch(() => undefined);
    return {
      healthy:
        gateway !== 'disconnected' && store === 'ok' && !Object.values(services).includes('unreachable'),
      role,
      queue: queue.kind,
      ...(gateway === undefined ? {} : { gateway }),
      store,
      ...services,
      queueDepth: depth?.waiting,
      ...(depth?.shared ? { sharedQueue: depth.shared } : {}),
      jobs: depth?.byPhase,
    };
  };

  return {
    role,
    client,
    logger,
    queue,
    database,
    async start() {
      await backend.connect();
      if (client) {
        const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
        await client.login(config.DISCORD_TOKEN);
        await ready;
      }
      if (voice && backend.relay && role === 'gateway') {
        // Deliveries happen in workers; the voice connections live here.
        stopRelay = await backend.relay.subscribe((track) => voice.trackDelivered(track));
      }
      await voice?.restore();
      if (role !== 'gateway') {
        const history = await usage.recentDurations(durations.capacity);
        for (const { lengthSeconds, generationMs } of history.reverse())
          durations.add(lengthSeconds, generationMs);
        // Queued again on each start: in process they were lost with the process; in Redis the
        // same IDs are no-ops unless Redis lost them.
        await resumeUnfinished();
      }
      await backend.start();
      if (config.HTTP_PORT !== undefined) {
        http = await startHttpServer({
          port: config.HTTP_PORT,
          host: config.HTTP_HOST,
          logger: logger.child({ component: 'http' }),
          health,
          metrics: async () => ({
            contentType: metrics.registry.contentType,
            body: await metrics.registry.metrics(),
          }),
        });
        logger.info({ url: http.url }, 'serving /healthz and /metrics');
      }
      if (config.WEB_PORT !== undefined) {
        web = await startWebServer(
          {
            publicUrl:
              config.PUBLIC_URL ?? (config.WEB_PORT === 0 ? '' : `http://localhost:${config.WEB_PORT}`),
            oauthUrl: config.DISCORD_OAUTH_URL,
            apiUrl: config.DISCORD_API_URL,
            clientId: config.DISCORD_APPLICATION_ID ?? '',
            clientSecret: config.DISCORD_CLIENT_SECRET ?? '',
            secureCookies: config.PUBLIC_URL?.startsWith('https:') ?? false,
            rest,
            web: webStore,
            tracks,
            settings: settingsService,
            access: createAccessChecker({ rest, now: () => clock.now() }),
            botGuilds: () => (client?.isReady() ? new Set(client.guilds.cache.keys()) : undefined),
            logger: logger.child({ component: 'web' }),
            now: () => clock.now(),
            limits: options.webLimits ?? { signInPerMinute: 10, postsPerMinute: 30 },
          },
          { port: config.WEB_PORT, host: config.WEB_HOST },
        );
        logger.info(`web listening on ${web.url}`);
      }
      logger.info({ role, queue: queue.kind }, 'started');
    },
    get httpUrl() {
      return http?.url;
    },
    get webUrl() {
      return web?.url;
    },
    get webLocalUrl() {
      return web?.localUrl;
    },
    voice,
    async stop() {
      // Interactions already taken finish first: their requests reach the queue before it closes.
      // Bounded well inside main's 10 s grace: an acknowledgement and its hand-off take far less,
      // and a handler stuck on a slow call (a lyrics draft, say) must not cost the queue its close.
      // A request that reaches the queue after that is left in the ledger for the next start.
      await pTimeout(router?.close() ?? Promise.resolve(), {
        milliseconds: options.handlersWaitMs ?? 3_000,
        fallback: () => logger.warn('stopping with interactions still being handled'),
      });
      // Jobs waiting on a ledger write stop waiting; the ledger resumes them on the next start.
      steps.stop();
      storeHealth.close();
      voice?.close();
      await stopRelay?.();
      // Before the store closes: steps in flight still write the ledger.
      await backend.stop();
      // Then the waveforms of the last deliveries, which record their peaks in the store.
      await reporter.settle();
      await client?.destroy();
      await http?.close();
      await web?.close();
      await database.close();
      logger.info('stopped');
    },
  };
}

/**
 * The key interaction tokens are sealed with: `TOKEN_ENCRYPTION_KEY`, else (one host, which config
 * has checked) a key file the bot makes under `DATA_DIR`. A store in memory dies with the process,
 * tokens and all, so its key can too.
 */
async function tokenCipher(config: Config, logger: Logger): Promise<TokenCipher> {
  if (config.TOKEN_ENCRYPTION_KEY !== undefined) return createTokenCipher(config.TOKEN_ENCRYPTION_KEY);
  if (isInMemoryStore(config.DATABASE_URL)) return createTokenCipher(randomBytes(32));
  const { key, path, created } = await keyFromFile(config.DATA_DIR);
  if (created) logger.info({ path }, 'made a key for the stored interaction tokens; keep it with the data');
  return createTokenCipher(key);
}

/** Rebuilds an accepted request from its ledger row, as it was when the last process stopped. */
function jobFromRow(
  row: TrackRecord,
  parent: TrackRecord | undefined,
  openToken: (row: TrackRecord) => string,
): Job {
  const lineage = lineageFor(row.kind, parent && parentOf(parent));
  const song = songDetailsOf(row);
  return {
    id: row.id,
    request: { prompt: row.prompt, lengthSeconds: row.lengthSeconds },
    origin: {
      guildId: row.guildId,
      channelId: row.channelId,
      userId: row.userId,
      reply: {
        applicationId: row.applicationId ?? '',
        interactionToken: openToken(row),
        ...(row.replyMessageId === null ? {} : { messageId: row.replyMessageId }),
      },
      uploadLimitBytes: row.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES,
    },
    createdAt: row.requestedAt,
    phase: row.generationId === null ? 'submitting' : 'generating',
    state: stateFromRecords({
      generationId: row.generationId,
      submittedAt: row.submittedAt,
      submittingSince: row.submittingAt,
      fallbackTime: row.requestedAt,
    }),
    polls: 0,
    ...(lineage ? { lineage } : {}),
    ...(song ? { song } : {}),
  };
}
