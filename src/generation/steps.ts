import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import { userMessageOf } from '../errors.js';
import { lazyChild, type Logger } from '../log.js';
import { DownloadError, type Downloader } from './download.js';
import {
  delivering,
  ended,
  generationOf,
  submitted,
  submitting,
  type FinishedGeneration,
  type JobOutcome,
} from './job.js';
import { audioDurationSeconds } from './mp3.js';
import type { ProgressSink } from './progress.js';
import type {
  Clock,
  Delivery,
  Generation,
  Job,
  JobLedger,
  JobObserver,
  LinkReason,
  Provider,
  Reported,
  Reporter,
  StoreWatch,
} from './ports.js';
import type { TrackOutcome } from './tracker.js';

/** One job as a step sees it: its state, its logger, and how it asks for a progress edit. */
export interface Run {
  job: Job;
  logger: Logger;
  progress: ProgressSink;
  /**
   * Whether this process still holds the job, for a queue whose jobs can be taken over (a Redis
   * worker's lock lapses while Redis is away). Asked right before the delivery's edit.
   */
  stillHeld?: () => Promise<boolean>;
}

/**
 * Thrown instead of delivering when `Run.stillHeld` says another worker has the job now: it
 * delivers, and two deliveries would each put a waveform on a message the other had replaced.
 */
export class JobTakenOver extends Error {
  constructor() {
    super('another worker has taken this job over');
    this.name = 'JobTakenOver';
  }
}

export interface StepsOptions {
  provider: Provider;
  download: Downloader;
  reporter: Reporter;
  ledger: JobLedger;
  clock: Clock;
  /** Used in the timeout message. */
  timeoutMs: number;
  /**
   * Downloads and uploads in flight at once in this process. Each holds at most one file of the
   * upload limit in memory, so this bounds the memory deliveries take however many finish together.
   */
  maxConcurrentDeliveries: number;
  /** Told of every ledger write's fate, so the bot can say when its store is down. */
  storeWatch?: StoreWatch;
  /** Told when a job is submitted again after a crash between the POST and the ledger. */
  observer?: Pick<JobObserver, 'resubmitted'>;
  /** Waits between tries of a ledger write that must land (default 200 ms doubling to 5 s). */
  ledgerRetry?: { minTimeoutMs?: number; maxTimeoutMs?: number };
}

/** A job's own logger: every line it writes carries who asked, where, and (once known) the generation. */
export function jobLogger(logger: Logger, job: Job): Logger {
  // Made at enqueue, during a burst's acknowledgements; its bindings cost only once it writes.
  return lazyChild(logger, {
    requestId: job.id,
    guildId: job.origin.guildId,
    channelId: job.origin.channelId,
    userId: job.origin.userId,
    ...(generationOf(job.state) === undefined ? {} : { generationId: generationOf(job.state) }),
  });
}

const unexpected = 'Something went wrong on our side while making this track. Please try again.';

/**
 * The steps of a job that do not depend on how it is scheduled: submit, deliver, fail, cancel.
 * The in-process service and the queue worker both run them, so a track reaches the member the
 * same way whichever carried it; each step's failure becomes one message for the member.
 */
export class JobSteps {
  /** First come, first served: a delivery waiting for a slot keeps its place in line. */
  private readonly deliveries: LimitFunction;
  /** Ends the ledger retries at shutdown; the jobs they hold resume on the next start. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: StepsOptions) {
    this.deliveries = pLimit(options.maxConcurrentDeliveries);
  }

  /** Stops retrying ledger writes: a job waiting on one is left for the next start. */
  stop(): void {
    this.stopping.abort(new Error('the bot is stopping'));
  }

  /**
   * Submits the request to the provider and records the generation ID. Resolves with the
   * generation once the ledger holds it, or undefined when the submission failed (the member has
   * been told) and the job is over. `beforeLedger` runs as soon as the provider has answered (the
   * queue worker keeps the ID in its step data there, in case the ledger write is slow).
   */
  async submit(
    run: Run,
    beforeLedger?: (generationId: string, submittedAt: number) => Promise<void>,
  ): Promise<Generation | undefined> {
    const { job } = run;
    const again = job.state.phase === 'submitting';
    job.phase = 'submitting';
    job.state = submitting(job.state, this.options.clock.now());
    // Written before the POST: a crash between the provider's answer and the ledger is then seen.
    await this.durable(run, 'submitting mark', () => this.options.ledger.submitting(job));
    if (again) {
      run.logger.warn(
        'submitting again: the last try stopped between the provider and the ledger, so the provider may charge twice',
      );
      this.options.observer?.resubmitted?.(job);
    } else {
      run.logger.info(
        { lengthSeconds: job.request.lengthSeconds, promptChars: job.request.prompt.length },
        'job accepted',
      );
    }
    let answer;
    try {
      answer = await this.options.provider.create(job.request);
    } catch (error) {
      run.logger.warn({ err: error }, 'submission failed');
      await this.fail(run, userMessageOf(error, unexpected));
      return undefined;
    }
    const submittedAt = this.options.clock.now();
    job.state = submitted(job.state, answer.generationId, submittedAt);
    run.logger = run.logger.child({ generationId: answer.generationId });
    run.logger.info({ status: answer.status }, 'generation submitted');
    // Best effort: the ledger write below is what must land, whatever became of this one.
    await beforeLedger?.(answer.generationId, submittedAt).catch((error: unknown) =>
      run.logger.warn({ err: error }, 'the generation could not be kept with the queued job'),
    );
    await this.durable(run, 'submission', () => this.options.ledger.submitted(job));
    return { generationId: answer.generationId, submittedAt };
  }

  /**
   * A generation the queue's step data holds and the ledger does not yet (the process stopped
   * between the two writes): the job takes it, and the ledger is brought up to date.
   */
  async adoptSubmission(run: Run, generation: Generation): Promise<void> {
    const { job } = run;
    if (job.state.phase !== 'requested' && job.state.phase !== 'submitting') return;
    job.state = submitted(
      submitting(job.state, generation.submittedAt),
      generation.generationId,
      generation.submittedAt,
    );
    run.logger = run.logger.child({ generationId: generation.generationId });
    run.logger.info('the ledger missed this submission; recording it from the queue');
    await this.durable(run, 'submission', () => this.options.ledger.submitted(job));
  }

  /** Ends a job whose tracking has ended (anything but `stopped`, which leaves it for later). */
  async finish(run: Run, outcome: Exclude<TrackOutcome, { kind: 'stopped' }>): Promise<void> {
    const { job } = run;
    switch (outcome.kind) {
      case 'cancelled':
        await this.endCancelled(run);
        return;
      case 'timed-out':
        await this.fail(
          run,
          `The music service took more than ${minutes(this.options.timeoutMs)} to make this track, so the bot stopped waiting. Please try again, perhaps with a shorter length.`,
        );
        return;
      case 'provider-error':
        await this.fail(run, outcome.error.userMessage);
        return;
      case 'failed':
        job.creditsUsed = outcome.creditsUsed;
        await this.fail(run, `The music service could not make this track: ${outcome.message}`);
        return;
      case 'completed': {
        const finished: FinishedGeneration = {
          audioUrl: outcome.audioUrl,
          creditsUsed: outcome.creditsUsed,
          durationMs: outcome.durationMs,
        };
        job.state = delivering(job.state, finished);
        job.creditsUsed = outcome.creditsUsed;
        job.completedAt = this.options.clock.now();
        job.generationMs = Math.round(outcome.durationMs);
        run.logger.info({ polls: job.polls, creditsUsed: outcome.creditsUsed }, 'generation completed');
        await this.deliveries(() => this.deliver(run, finished.audioUrl));
        return;
      }
    }
  }

  /**
   * Records a delivery that reached the member before the process carrying it died: the reply
   * already holds the track, so only the ledger is behind.
   */
  async confirmDelivered(run: Run): Promise<void> {
    const { job } = run;
    job.phase = 'completed';
    job.state = this.end(job, 'completed');
    job.deliveredAt = this.options.clock.now();
    run.logger.info('the reply already holds the track; recording the delivery');
    await this.durable(run, 'completion', () =>
      this.options.ledger.completed(job, 'attachment via reply (found after a restart)'),
    );
  }

  async fail(run: Run, userMessage: string): Promise<void> {
    const { job } = run;
    await run.progress.settle();
    job.phase = 'failed';
    job.state = this.end(job, 'failed');
    const sent = await this.tell(run, 'failure report', () => this.options.reporter.failed(job, userMessage));
    await this.durable(run, 'failure', () =>
      this.options.ledger.failed(job, sent === undefined ? `${userMessage} (not delivered)` : userMessage),
    );
  }

  async endCancelled(run: Run): Promise<void> {
    const { job } = run;
    await run.progress.settle();
    job.phase = 'cancelled';
    job.state = this.end(job, 'cancelled');
    run.logger.info({ cancelledBy: job.cancelledBy }, 'job cancelled');
    await this.tell(run, 'cancellation', () => this.options.reporter.cancelled(job));
    await this.durable(run, 'cancellation', () => this.options.ledger.cancelled(job));
  }

  /** Edits the reply to show where the job is; best effort. */
  async showProgress(run: Run): Promise<void> {
    await this.tell(run, 'progress', () => this.options.reporter.progress(run.job));
  }

  /** Whether the reply already holds the finished track; false when it cannot be told. */
  async holdsTrack(run: Run): Promise<boolean> {
    return (await this.report(run, 'reply check', () => this.options.reporter.holdsTrack(run.job))) ?? false;
  }

  /** Runs one report; a reporter fault is logged with its context and never escapes the job. */
  async report<T>(run: Run, what: string, send: () => Promise<T>): Promise<T | undefined> {
    try {
      return await send();
    } catch (error) {
      run.logger.error({ err: error }, `${what} could not be sent`);
      return undefined;
    }
  }

  /** One message to the member (see `report`); the message that carries the reply is kept. */
  private async tell<T extends Reported>(
    run: Run,
    what: string,
    send: () => Promise<T>,
  ): Promise<T | undefined> {
    const sent = await this.report(run, what, send);
    if (sent?.carriedBy !== undefined) await this.carriedBy(run, sent.carriedBy);
    return sent;
  }

  /** The reply lives in `messageId` from now on: kept with the job, and in the ledger as a help. */
  private async carriedBy(run: Run, messageId: string): Promise<void> {
    run.job.origin.reply.messageId = messageId;
    try {
      await this.options.ledger.replyMessage(run.job, messageId);
    } catch (error) {
      // Only a help for edits after the token expires: a store outage must not fail the job.
      this.options.storeWatch?.failed(error);
      run.logger.warn({ err: error }, 'the reply message could not be remembered');
    }
  }

  private async deliver(run: Run, audioUrl: string): Promise<void> {
    const { job, logger } = run;
    job.phase = 'downloading';
    run.progress.request();
    const limitBytes = job.origin.uploadLimitBytes;
    const linkInstead = (because: LinkReason, sizeBytes: number | undefined): Delivery => ({
      kind: 'link',
      url: audioUrl,
      sizeBytes,
      limitBytes,
      because,
    });
    let delivery: Delivery;
    try {
      const file = await this.options.download(audioUrl, limitBytes);
      if (file.kind === 'file') {
        const seconds = await audioDurationSeconds(file.data);
        if (seconds !== undefined) job.actualSeconds = seconds;
        delivery = { kind: 'file', data: file.data, fileName: fileNameFor(job.request.prompt) };
      } else {
        delivery = linkInstead('too-large', file.sizeBytes);
      }
    } catch (error) {
      logger.warn({ err: error }, 'download failed');
      await this.fail(run, error instanceof DownloadError ? error.userMessage : unexpected);
      return;
    }
    await run.progress.settle();
    job.phase = 'delivering';
    // Numbered before the edit, and the same number again if a restart repeats this step; a store
    // outage holds the delivery until it lands, so the card never goes out without its number.
    await this.durable(run, 'track number', async () => {
      job.trackNumber = await this.options.ledger.numbered(job);
    });
    if (run.stillHeld && !(await run.stillHeld())) throw new JobTakenOver();
    // The edit goes first and the ledger after: after a crash in between, the resumed job finds
    // the track in the reply (see `confirmDelivered`) or edits the same reply again.
    let sent = await this.tell(run, 'delivery', () => this.options.reporter.delivered(job, delivery));
    if (sent === undefined && delivery.kind === 'file') {
      // The upload kept failing (the reporter has sent again what it safely could). The track is
      // made and paid for, so the member gets its address rather than nothing.
      const asLink = linkInstead('upload-failed', delivery.data.length);
      sent = await this.tell(run, 'delivery as a link', () => this.options.reporter.delivered(job, asLink));
      if (sent !== undefined) delivery = asLink;
    }
    if (sent === undefined) {
      job.phase = 'failed';
      job.state = this.end(job, 'failed');
      await this.durable(run, 'completion', () =>
        this.options.ledger.failed(job, 'the track could not be delivered to Discord'),
      );
      return;
    }
    job.phase = 'completed';
    job.state = this.end(job, 'completed');
    job.deliveredAt = this.options.clock.now();
    const { route } = sent;
    const how = `${delivery.kind === 'file' ? 'attachment' : 'link'} via ${route}`;
    await this.durable(run, 'completion', () => this.options.ledger.completed(job, how));
    logger.info(
      {
        delivery: delivery.kind,
        route,
        trackNumber: job.trackNumber,
        bytes: delivery.kind === 'file' ? delivery.data.length : delivery.sizeBytes,
      },
      'track delivered',
    );
  }

  /** The ended state; a job already ended (a repeated step after a crash) keeps its first end. */
  private end(job: Job, outcome: JobOutcome) {
    return job.state.phase === 'ended' ? job.state : ended(job.state, outcome);
  }

  /**
   * Writes one ledger step that later steps depend on, trying again with backoff until it lands:
   * while the store is out of reach the job waits here rather than fail (or go on without the
   * record). Only a fault that trying again cannot mend (a bug) is logged and let go; a shutdown
   * ends the wait, and the job resumes from the ledger on the next start.
   */
  private async durable(run: Run, what: string, write: () => Promise<void>): Promise<void> {
    const { storeWatch, ledgerRetry } = this.options;
    // Stopping ends the waiting, not the writing: a step the queue lets finish at shutdown still
    // records what it did (one try), rather than fail and be tried again after the restart.
    if (this.isStopping()) {
      await write();
      return;
    }
    try {
      await pRetry(write, {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: ledgerRetry?.minTimeoutMs ?? 200,
        maxTimeout: ledgerRetry?.maxTimeoutMs ?? 5_000,
        randomize: true,
        signal: this.stopping.signal,
        shouldRetry: ({ error }) => storeWatch?.isTransient(error) ?? false,
        onFailedAttempt: ({ error, attemptNumber }) => {
          storeWatch?.failed(error);
          // The first failure and then one line in ten: an outage of minutes stays readable.
          if (attemptNumber % 10 === 1)
            run.logger.warn(
              { err: error, attempt: attemptNumber },
              `ledger ${what} not written yet; retrying`,
            );
        },
      });
      storeWatch?.succeeded();
    } catch (error) {
      if (this.isStopping()) throw error;
      run.logger.error({ err: error }, `ledger ${what} could not be recorded`);
    }
  }

  private isStopping(): boolean {
    return this.stopping.signal.aborted;
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
