import { randomUUID } from 'node:crypto';
import { userMessageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { DownloadError, type Downloader } from './download.js';
import type { ConcurrencyGate } from './gate.js';
import { ProgressThrottle } from './progress.js';
import type {
  Clock,
  Delivery,
  GenerationRequest,
  Job,
  JobLedger,
  Provider,
  Reporter,
  RequestOrigin,
} from './ports.js';
import type { Tracker, TrackResult } from './tracker.js';

export interface GenerationServiceOptions {
  provider: Provider;
  tracker: Tracker;
  download: Downloader;
  reporter: Reporter;
  ledger: JobLedger;
  /** Per-server admission: jobs beyond a server's `concurrent` setting wait in line. */
  gate: ConcurrencyGate;
  clock: Clock;
  logger: Logger;
  /** Used in the timeout message. */
  timeoutMs: number;
  /** Least time between two progress edits of one reply. */
  progressIntervalMs: number;
  newId?: () => string;
}

const unexpected = 'Something went wrong on our side while making this track. Please try again.';

/**
 * Takes a validated request to a delivered track: submit, hand the generation ID to the tracker,
 * download, report. Each step's failure becomes one message for the member.
 */
export class GenerationService {
  private readonly running = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly options: GenerationServiceOptions) {}

  /**
   * Accepts a request and returns at once; the work carries on in the background. `id` is the
   * request's ledger row when the caller reserved one.
   */
  start(
    request: GenerationRequest,
    origin: RequestOrigin,
    id: string = (this.options.newId ?? randomUUID)(),
  ): Job {
    const job: Job = {
      id,
      request,
      origin,
      createdAt: this.options.clock.now(),
      phase: 'submitting',
      polls: 0,
    };
    this.launch(job);
    return job;
  }

  /**
   * Picks up a job that an earlier process accepted: a submitted one is tracked again, never
   * submitted twice; one that was never submitted is submitted now.
   */
  resume(job: Job): void {
    this.launch(job);
  }

  /** Stops admitting and tracking, and waits for the steps in flight (a submission, an edit) to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.options.gate.close();
    this.options.tracker.stop();
    await Promise.allSettled([...this.running]);
  }

  private launch(job: Job): void {
    const logger = this.options.logger.child({
      requestId: job.id,
      guildId: job.origin.guildId,
      channelId: job.origin.channelId,
      userId: job.origin.userId,
      ...(job.generationId ? { generationId: job.generationId } : {}),
    });
    const run = this.admitThenRun(job, logger)
      .catch((error: unknown) => {
        logger.error({ err: error }, 'job crashed');
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async admitThenRun(job: Job, logger: Logger): Promise<void> {
    const progress = new ProgressThrottle(
      () => this.report(logger, 'progress', () => this.options.reporter.progress(job)).then(() => undefined),
      this.options.clock,
      this.options.progressIntervalMs,
    );
    const ticket = this.options.gate.enter(job.origin.guildId, (position) => {
      job.phase = 'queued';
      job.queuePosition = position;
      progress.request();
    });
    try {
      await ticket.admitted;
      job.queuePosition = undefined;
      // A job still waiting when the bot stops stays in the ledger and is picked up on the next start.
      if (!this.stopping) await this.run(job, logger, progress);
    } finally {
      await progress.settle();
      ticket.release();
    }
  }

  private async run(job: Job, baseLogger: Logger, progress: ProgressThrottle): Promise<void> {
    const { provider, tracker, clock } = this.options;
    let logger = baseLogger;
    if (job.generationId === undefined) {
      job.phase = 'submitting';
      logger.info(
        { lengthSeconds: job.request.lengthSeconds, promptChars: job.request.prompt.length },
        'job accepted',
      );
      let submitted;
      try {
        submitted = await provider.create(job.request);
      } catch (error) {
        logger.warn({ err: error }, 'submission failed');
        await progress.settle();
        await this.fail(job, logger, userMessageOf(error, unexpected));
        return;
      }
      job.generationId = submitted.generationId;
      job.submittedAt = clock.now();
      logger = logger.child({ generationId: submitted.generationId });
      logger.info({ status: submitted.status }, 'generation submitted');
      await this.record(logger, 'submission', () => this.options.ledger.submitted(job));
    } else {
      logger.info('resuming a submitted generation');
    }
    job.phase = 'generating';
    progress.request();

    const result = await tracker.track(job.generationId, logger, job.submittedAt ?? job.createdAt);
    job.polls += result.polls;
    await progress.settle();
    await this.finish(job, logger, result);
  }

  private async finish(job: Job, logger: Logger, result: TrackResult): Promise<void> {
    switch (result.kind) {
      case 'stopped':
        // The ledger still holds the job as submitted: the next start tracks it again.
        logger.info('tracking stopped before the job ended; it resumes on the next start');
        return;
      case 'timed-out':
        await this.fail(
          job,
          logger,
          `The music service took more than ${minutes(this.options.timeoutMs)} to make this track, so the bot stopped waiting. Please try again, perhaps with a shorter length.`,
        );
        return;
      case 'provider-error':
        await this.fail(job, logger, result.error.userMessage);
        return;
      case 'failed':
        job.creditsUsed = result.creditsUsed;
        await this.fail(job, logger, `The music service could not make this track: ${result.message}`);
        return;
      case 'completed':
        job.creditsUsed = result.creditsUsed;
        job.completedAt = this.options.clock.now();
        logger.info({ polls: result.polls, creditsUsed: result.creditsUsed }, 'generation completed');
        await this.deliver(job, logger, result.audioUrl);
        return;
    }
  }

  private async deliver(job: Job, logger: Logger, audioUrl: string): Promise<void> {
    job.phase = 'downloading';
    const limitBytes = job.origin.uploadLimitBytes;
    let delivery: Delivery;
    try {
      const file = await this.options.download(audioUrl, limitBytes);
      delivery =
        file.kind === 'file'
          ? { kind: 'file', data: file.data, fileName: fileNameFor(job.request.prompt) }
          : { kind: 'link', url: audioUrl, sizeBytes: file.sizeBytes, limitBytes };
    } catch (error) {
      logger.warn({ err: error }, 'download failed');
      await this.fail(job, logger, error instanceof DownloadError ? error.userMessage : unexpected);
      return;
    }
    job.phase = 'delivering';
    // The edit goes first and the ledger after: after a crash in between, the resumed job edits the
    // same reply again, which the member cannot tell from one edit.
    const route = await this.report(logger, 'delivery', () => this.options.reporter.delivered(job, delivery));
    job.phase = route === undefined ? 'failed' : 'completed';
    await this.record(logger, 'completion', () =>
      route === undefined
        ? this.options.ledger.failed(job, 'the track could not be delivered to Discord')
        : this.options.ledger.completed(
            job,
            `${delivery.kind === 'file' ? 'attachment' : 'link'} via ${route}`,
          ),
    );
    if (route !== undefined) {
      logger.info(
        {
          delivery: delivery.kind,
          route,
          bytes: delivery.kind === 'file' ? delivery.data.length : delivery.sizeBytes,
        },
        'track delivered',
      );
    }
  }

  private async fail(job: Job, logger: Logger, userMessage: string): Promise<void> {
    job.phase = 'failed';
    const route = await this.report(logger, 'failure report', () =>
      this.options.reporter.failed(job, userMessage),
    );
    await this.record(logger, 'failure', () =>
      this.options.ledger.failed(job, route === undefined ? `${userMessage} (not delivered)` : userMessage),
    );
  }

  /** Writes one ledger step; a store fault is logged and does not stop the member's track. */
  private async record(logger: Logger, what: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      logger.error({ err: error }, `ledger ${what} could not be recorded`);
    }
  }

  /** Runs one report; a reporter fault is logged with its context and never escapes the job. */
  private async report<T>(logger: Logger, what: string, send: () => Promise<T>): Promise<T | undefined> {
    try {
      return await send();
    } catch (error) {
      logger.error({ err: error }, `${what} could not be sent`);
      return undefined;
    }
  }
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  const seconds = Math.round(ms / 1000);
  return m >= 1 ? `${m} minute${m === 1 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/** A readable, safe file name from the first words of the prompt, e.g. `lofi-hip-hop-at-night.mp3`. */
export function fileNameFor(prompt: string): string {
  let slug = prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length > 48) {
    slug = slug.slice(0, 48);
    // Cut at a word boundary rather than mid-word, unless that leaves too little.
    const lastDash = slug.lastIndexOf('-');
    slug = lastDash >= 16 ? slug.slice(0, lastDash) : slug;
  }
  return `${slug || 'tracksmith-track'}.mp3`;
}
