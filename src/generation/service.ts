import { randomUUID } from 'node:crypto';
import { userMessageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { DownloadError, type Downloader } from './download.js';
import { audioDurationSeconds } from './mp3.js';
import { Limiter } from './limiter.js';
import type { FairGate } from './gate.js';
import { ProgressThrottle } from './progress.js';
import {
  CANCELLABLE_PHASES,
  type Clock,
  type Delivery,
  type GenerationRequest,
  type Job,
  type JobLedger,
  type JobObserver,
  type JobPhase,
  type Lineage,
  type Provider,
  type Reporter,
  type RequestOrigin,
} from './ports.js';
import type { Tracker, TrackResult } from './tracker.js';

export interface GenerationServiceOptions {
  provider: Provider;
  tracker: Tracker;
  download: Downloader;
  reporter: Reporter;
  ledger: JobLedger;
  /** Admission: a global limit, each server's `concurrent`, and a fair order between them. */
  gate: FairGate;
  clock: Clock;
  logger: Logger;
  /** Used in the timeout message. */
  timeoutMs: number;
  /** Least time between two progress edits of one reply. */
  progressIntervalMs: number;
  /**
   * Downloads and uploads in flight at once. Each holds at most one file of the upload limit in
   * memory, so this bounds the memory deliveries take however many tracks finish together.
   */
  maxConcurrentDeliveries: number;
  observer?: JobObserver;
  newId?: () => string;
}

export type CancelResult = 'cancelled' | 'too-late' | 'not-running';

const unexpected = 'Something went wrong on our side while making this track. Please try again.';

/** One job on its way, with what its steps share. */
interface Run {
  job: Job;
  logger: Logger;
  progress: ProgressThrottle;
  /** Resolves when someone cancels the job, so a wait in line can end early. */
  cancelled: Promise<void>;
  wake: () => void;
  /** The whole job, settled when it ends or stops; shutdown waits for it. */
  work: Promise<void>;
}

/**
 * Takes a validated request to a delivered track: wait for a slot, submit, hand the generation ID
 * to the tracker, download, report. Each step's failure becomes one message for the member.
 */
export class GenerationService {
  /** Jobs of this process from admission to their end. */
  private readonly runs = new Map<string, Run>();
  private readonly deliveries: Limiter;
  private stopping = false;

  constructor(private readonly options: GenerationServiceOptions) {
    this.deliveries = new Limiter(options.maxConcurrentDeliveries);
  }

  /**
   * Accepts a request and returns at once; the work carries on in the background. `id` is the
   * request's ledger row when the caller reserved one.
   */
  start(
    request: GenerationRequest,
    origin: RequestOrigin,
    id: string = (this.options.newId ?? randomUUID)(),
    lineage?: Lineage,
  ): Job {
    const job: Job = {
      id,
      request,
      origin,
      createdAt: this.options.clock.now(),
      phase: 'submitting',
      polls: 0,
      ...(lineage ? { lineage } : {}),
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

  /**
   * Stops a job that the provider has not finished: it leaves the line, or its tracking ends. A
   * generation already submitted still runs at the provider; the bot just stops waiting for it.
   */
  cancel(id: string, byUserId: string): CancelResult {
    const run = this.runs.get(id);
    if (!run) return 'not-running';
    const { job } = run;
    if (job.cancelledBy !== undefined) return 'cancelled';
    if (!CANCELLABLE_PHASES.includes(job.phase)) return 'too-late';
    job.cancelledBy = byUserId;
    run.wake();
    if (job.generationId !== undefined) this.options.tracker.cancel(job.generationId);
    return 'cancelled';
  }

  /** Jobs of this process by phase, and how many wait for a slot. */
  snapshot(): { byPhase: Partial<Record<JobPhase, number>>; waiting: number } {
    const byPhase: Partial<Record<JobPhase, number>> = {};
    for (const { job } of this.runs.values()) byPhase[job.phase] = (byPhase[job.phase] ?? 0) + 1;
    return { byPhase, waiting: this.options.gate.waiting() };
  }

  /** Stops admitting and tracking, and waits for the steps in flight (a submission, an edit) to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.options.gate.close();
    this.options.tracker.stop();
    await Promise.allSettled([...this.runs.values()].map((run) => run.work));
  }

  private launch(job: Job): void {
    const logger = this.options.logger.child({
      requestId: job.id,
      guildId: job.origin.guildId,
      channelId: job.origin.channelId,
      userId: job.origin.userId,
      ...(job.generationId ? { generationId: job.generationId } : {}),
    });
    let wake!: () => void;
    const cancelled = new Promise<void>((resolve) => (wake = resolve));
    const run: Run = {
      job,
      logger,
      cancelled,
      wake,
      work: Promise.resolve(),
      progress: new ProgressThrottle(
        () => this.report(run, 'progress', () => this.options.reporter.progress(job)).then(() => undefined),
        this.options.clock,
        this.options.progressIntervalMs,
      ),
    };
    this.runs.set(job.id, run);
    run.work = this.admitThenRun(run)
      .catch((error: unknown) => {
        logger.error({ err: error }, 'job crashed');
      })
      .finally(() => {
        this.runs.delete(job.id);
        // A job left for the next start (shutdown) has not ended.
        if (job.phase === 'completed' || job.phase === 'failed' || job.phase === 'cancelled') {
          this.options.observer?.finished(job);
        }
      });
  }

  private async admitThenRun(run: Run): Promise<void> {
    const { job } = run;
    const ticket = this.options.gate.enter(job.origin.guildId, job.origin.userId, (position) => {
      const shown = job.queuePosition;
      job.phase = 'queued';
      job.queuePosition = position;
      if (worthAnEdit(shown, position)) run.progress.request();
    });
    try {
      await Promise.race([ticket.admitted, run.cancelled]);
      job.queuePosition = undefined;
      if (job.cancelledBy !== undefined) await this.endCancelled(run);
      // A job still waiting when the bot stops stays in the ledger and is picked up on the next start.
      else if (!this.stopping) await this.submitAndTrack(run);
    } finally {
      await run.progress.settle();
      ticket.release();
    }
  }

  private async submitAndTrack(run: Run): Promise<void> {
    const { job } = run;
    const { provider, tracker, clock } = this.options;
    if (job.generationId === undefined) {
      job.phase = 'submitting';
      run.logger.info(
        { lengthSeconds: job.request.lengthSeconds, promptChars: job.request.prompt.length },
        'job accepted',
      );
      let submitted;
      try {
        submitted = await provider.create(job.request);
      } catch (error) {
        run.logger.warn({ err: error }, 'submission failed');
        await this.fail(run, userMessageOf(error, unexpected));
        return;
      }
      job.generationId = submitted.generationId;
      job.submittedAt = clock.now();
      run.logger = run.logger.child({ generationId: submitted.generationId });
      run.logger.info({ status: submitted.status }, 'generation submitted');
      await this.record(run, 'submission', () => this.options.ledger.submitted(job));
    } else {
      run.logger.info('resuming a submitted generation');
    }
    if (job.cancelledBy !== undefined) {
      await this.endCancelled(run);
      return;
    }
    job.phase = 'generating';
    run.progress.request();

    const result = await tracker.track(
      job.generationId,
      run.logger,
      job.submittedAt ?? job.createdAt,
      job.request.lengthSeconds,
    );
    job.polls += result.polls;
    await this.finish(run, result);
  }

  private async finish(run: Run, result: TrackResult): Promise<void> {
    const { job } = run;
    switch (result.kind) {
      case 'stopped':
        // The ledger still holds the job as submitted: the next start tracks it again.
        run.logger.info('tracking stopped before the job ended; it resumes on the next start');
        return;
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
        await this.fail(run, result.error.userMessage);
        return;
      case 'failed':
        job.creditsUsed = result.creditsUsed;
        await this.fail(run, `The music service could not make this track: ${result.message}`);
        return;
      case 'completed':
        job.creditsUsed = result.creditsUsed;
        job.completedAt = this.options.clock.now();
        job.generationMs = Math.round(result.durationMs);
        run.logger.info({ polls: result.polls, creditsUsed: result.creditsUsed }, 'generation completed');
        await this.deliveries.run(() => this.deliver(run, result.audioUrl));
        return;
    }
  }

  private async deliver(run: Run, audioUrl: string): Promise<void> {
    const { job, logger } = run;
    job.phase = 'downloading';
    run.progress.request();
    const limitBytes = job.origin.uploadLimitBytes;
    let delivery: Delivery;
    try {
      const file = await this.options.download(audioUrl, limitBytes);
      if (file.kind === 'file') {
        const seconds = await audioDurationSeconds(file.data);
        if (seconds !== undefined) job.actualSeconds = seconds;
        delivery = { kind: 'file', data: file.data, fileName: fileNameFor(job.request.prompt) };
      } else {
        delivery = { kind: 'link', url: audioUrl, sizeBytes: file.sizeBytes, limitBytes };
      }
    } catch (error) {
      logger.warn({ err: error }, 'download failed');
      await this.fail(run, error instanceof DownloadError ? error.userMessage : unexpected);
      return;
    }
    await run.progress.settle();
    job.phase = 'delivering';
    try {
      // Numbered before the edit, and the same number again if a restart repeats this step.
      job.trackNumber = await this.options.ledger.numbered(job);
    } catch (error) {
      logger.error({ err: error }, 'track number could not be given; delivering without one');
    }
    // The edit goes first and the ledger after: after a crash in between, the resumed job edits the
    // same reply again, which the member cannot tell from one edit.
    const route = await this.report(run, 'delivery', () => this.options.reporter.delivered(job, delivery));
    if (route === undefined) {
      job.phase = 'failed';
      await this.record(run, 'completion', () =>
        this.options.ledger.failed(job, 'the track could not be delivered to Discord'),
      );
      return;
    }
    job.phase = 'completed';
    job.deliveredAt = this.options.clock.now();
    const how = `${delivery.kind === 'file' ? 'attachment' : 'link'} via ${route}`;
    await this.record(run, 'completion', () => this.options.ledger.completed(job, how));
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

  private async fail(run: Run, userMessage: string): Promise<void> {
    const { job } = run;
    await run.progress.settle();
    job.phase = 'failed';
    const route = await this.report(run, 'failure report', () =>
      this.options.reporter.failed(job, userMessage),
    );
    await this.record(run, 'failure', () =>
      this.options.ledger.failed(job, route === undefined ? `${userMessage} (not delivered)` : userMessage),
    );
  }

  private async endCancelled(run: Run): Promise<void> {
    const { job } = run;
    await run.progress.settle();
    job.phase = 'cancelled';
    run.logger.info({ cancelledBy: job.cancelledBy }, 'job cancelled');
    await this.report(run, 'cancellation', () => this.options.reporter.cancelled(job));
    await this.record(run, 'cancellation', () => this.options.ledger.cancelled(job));
  }

  /** Writes one ledger step; a store fault is logged and does not stop the member's track. */
  private async record(run: Run, what: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      run.logger.error({ err: error }, `ledger ${what} could not be recorded`);
    }
  }

  /** Runs one report; a reporter fault is logged with its context and never escapes the job. */
  private async report<T>(run: Run, what: string, send: () => Promise<T>): Promise<T | undefined> {
    try {
      return await send();
    } catch (error) {
      run.logger.error({ err: error }, `${what} could not be sent`);
      return undefined;
    }
  }
}

/**
 * Near the front every step of the line is news; far back, an edit every ten places is enough.
 * With thousands waiting, that is the difference between a few edits a second and thousands.
 */
export function worthAnEdit(shown: number | undefined, position: number): boolean {
  return shown === undefined || position <= 20 || Math.floor(position / 10) !== Math.floor(shown / 10);
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
