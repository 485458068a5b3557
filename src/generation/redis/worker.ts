import { DelayedError, Worker, type Job as BullJob } from 'bullmq';
import pTimeout from 'p-timeout';
import type { Logger } from '../../log.js';
import type { DurationModel } from '../durations.js';
import { delivering } from '../job.js';
import { noProgress, ProgressThrottle } from '../progress.js';
import {
  countByPhase,
  hasEnded,
  type Clock,
  type Job,
  type JobObserver,
  type JobPhase,
  type Provider,
} from '../ports.js';
import { firstPollDelay, type ScheduleOptions } from '../schedule.js';
import { leaveLine, startGeneration, waitInLine } from '../sequence.js';
import { JobTakenOver, jobLogger, type JobSteps, type Run } from '../steps.js';
import { checkGeneration, type CheckState } from '../tracker.js';
import { QUEUE_NAME, type RedisQueueParts, type StepData } from './queue.js';

export interface QueueWorkerOptions {
  parts: RedisQueueParts;
  steps: JobSteps;
  provider: Provider;
  /** The request as the ledger holds it now, or undefined once it has ended (or never existed). */
  load(id: string): Promise<Job | undefined>;
  /** The server's `concurrent` setting. */
  guildLimit(guildId: string): Promise<number>;
  clock: Clock;
  logger: Logger;
  schedule: ScheduleOptions;
  durations: DurationModel;
  timeoutMs: number;
  /** Least time between two progress edits of one reply. */
  progressIntervalMs: number;
  /** Steps this process runs at once; a step is one status check, one submission or one delivery. */
  concurrency: number;
  /** How long a step's lock lives without renewal; a dead worker's jobs are taken over after it. */
  lockMs: number;
  /** Steps per second across every worker (`POLL_RATE_LIMIT`); most are status checks. */
  rateLimit?: number;
  observer?: JobObserver;
  random?: () => number;
}

type Next = { parkUntil: number } | 'done';

const gaveUpMessage =
  'The bot kept hitting a fault on its side while making this track, and gave up. Please try again in a few minutes.';

/**
 * Carries requests from the shared queue through their steps: wait for a slot in the fair gate,
 * submit, check (each check a delayed job, not a sleeping promise), deliver. Every step starts from
 * the ledger, so a request that has ended is never worked on again, and a worker that takes over a
 * dead one's job resumes it where the ledger and the job's data say it was.
 */
export class QueueWorker {
  private worker: Worker<StepData> | undefined;
  /** Steps running in this process, for `/healthz` and `/metrics`. */
  private readonly running = new Map<string, Job>();

  constructor(private readonly options: QueueWorkerOptions) {}

  start(): void {
    const { parts, concurrency, lockMs, rateLimit } = this.options;
    this.worker = new Worker<StepData>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: parts.redis,
      prefix: parts.options.prefix,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died is handed on; only a job that kills worker after worker gives up.
      maxStalledCount: 5,
      ...(rateLimit === undefined ? {} : { limiter: { max: rateLimit, duration: 1_000 } }),
    });
    this.worker.on('failed', (job, error) => {
      this.options.logger.error({ err: error, requestId: job?.id }, 'a queue step failed');
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) void this.giveUp(job);
    });
    this.worker.on('stalled', (jobId) => {
      // Its worker died or hung past the lock: the job goes back in line for any worker to resume.
      this.options.logger.warn({ requestId: jobId }, 'took over a job whose worker stopped answering');
    });
    this.worker.on('error', parts.reportError);
  }

  byPhase(): Partial<Record<JobPhase, number>> {
    return countByPhase(this.running.values());
  }

  /** Finishes the steps in hand and takes no more; parked jobs wait in Redis for any worker. */
  async stop(): Promise<void> {
    const { worker } = this;
    if (!worker) return;
    try {
      await pTimeout(worker.close(), {
        milliseconds: 5_000,
        message: 'the queue worker did not close in time',
      });
    } catch (error) {
      // Redis is out of reach, or a step hangs: leave; the locks expire and another worker resumes.
      this.options.logger.warn({ err: error }, 'closing the queue worker without waiting');
      void worker.close(true).catch(() => undefined);
    }
  }

  private async process(bullJob: BullJob<StepData>, token: string | undefined): Promise<void> {
    const id = bullJob.id ?? '';
    const job = await this.options.load(id);
    if (!job) {
      // Ended already (or a stale duplicate): make sure it holds no slot, and do nothing else.
      // Said at info: after a takeover it is how the log shows that the dead worker had finished.
      this.options.logger.info({ requestId: id }, 'the request has ended already; nothing to do');
      await this.release(id);
      return;
    }
    const data: StepData = { ...bullJob.data };
    const run: Run = {
      job,
      logger: jobLogger(this.options.logger, job),
      // At most one edit per interval across all the job's steps: the time of the last edit
      // travels in the job's data. An edit held back is not queued: a later step sends the
      // state then current.
      progress: new ProgressThrottle(
        () => this.options.steps.showProgress(run),
        this.options.clock,
        this.options.progressIntervalMs,
        {
          memory: data,
          trailing: false,
          onSend: () => {
            data.shownPhase = job.phase;
          },
        },
      ),
      // Renews the lock if it is still this worker's; BullMQ answers 1 then, and 0 once it has
      // lapsed (another worker may hold it now).
      ...(token === undefined
        ? {}
        : { stillHeld: async () => (await bullJob.extendLock(token, this.options.lockMs)) === 1 }),
    };
    this.running.set(id, job);
    let next: Next;
    try {
      // The step data knew the generation before the ledger did (its write was cut short): the
      // ledger catches up, and the job is never submitted twice.
      if (data.generation !== undefined) await this.options.steps.adoptSubmission(run, data.generation);
      next = await this.step(run, data, (saved) => bullJob.updateData(saved));
      // A state the reply has not shown yet (an edit held back by the interval) goes out now if it may.
      if (next !== 'done' && data.shownPhase !== job.phase) run.progress.request();
      // Edits land before the job moves on, so the next step (on any worker) never races them.
      await run.progress.settle();
    } catch (error) {
      if (!(error instanceof JobTakenOver)) throw error;
      run.logger.warn(
        'the job was taken over while this worker had lost its lock; leaving it to the new holder',
      );
      // BullMQ's sign for "this job is not yours to finish": it leaves the job where it is.
      throw new DelayedError();
    } finally {
      this.running.delete(id);
    }
    if (next === 'done') {
      await this.release(id);
      if (hasEnded(job)) this.options.observer?.finished(job);
      return;
    }
    await bullJob.updateData(data);
    await bullJob.moveToDelayed(next.parkUntil, token);
    // A slot may have freed for this job while it was still active, when the worker that freed it
    // could not wake it; now that it is parked, it wakes itself rather than sleep to its recheck.
    if (data.step === 'admit' && (await this.options.parts.gate.holdsSlot(id))) {
      await bullJob.promote().catch(() => undefined);
    }
    throw new DelayedError();
  }

  private async step(run: Run, data: StepData, save: (data: StepData) => Promise<void>): Promise<Next> {
    const { job } = run;
    const { parts, steps, clock } = this.options;
    const cancelledBy = await parts.redis.get(parts.cancelKey(job.id));
    if (cancelledBy !== null && data.step !== 'deliver') {
      job.cancelledBy = cancelledBy;
      await steps.endCancelled(run);
      return 'done';
    }

    if (data.step === 'admit') {
      const limit = await this.options.guildLimit(job.origin.guildId);
      const { position, admitted } = await parts.gate.enter(
        job.id,
        job.origin.guildId,
        job.origin.userId,
        limit,
      );
      await parts.wake(admitted.filter((other) => other !== job.id));
      if (position > 0) {
        if (waitInLine(run, position, data.shownPosition)) data.shownPosition = position;
        // Woken as soon as a slot frees; the recheck only refreshes the place shown, or catches a
        // wake-up that raced this step.
        return { parkUntil: clock.now() + Math.min(15_000, 1_000 + position * 100) };
      }
      leaveLine(run);
      data.step = 'submit';
    }

    if (data.step === 'submit') {
      const generation = await startGeneration(steps, run, async (generationId, submittedAt) => {
        data.generation = { generationId, submittedAt };
        await save(data);
      });
      if (generation === undefined) return 'done';
      data.generation = generation;
      data.step = 'poll';
      const window = this.options.durations.predict(job.request.lengthSeconds);
      return {
        parkUntil: generation.submittedAt + firstPollDelay(this.options.schedule, window),
      };
    }

    if (data.step === 'poll') {
      if (job.state.phase !== 'submitted') {
        // Neither the step data nor the ledger has a generation: checking one would ask for ''.
        throw new Error(`poll step for a job that is ${job.state.phase}, with no generation ID`);
      }
      const startedAt = job.state.submittedAt;
      const state: CheckState = {
        generationId: job.state.generationId,
        logger: run.logger,
        startedAt,
        lengthSeconds: job.request.lengthSeconds,
        window: this.options.durations.predict(job.request.lengthSeconds),
        deadline: startedAt + this.options.timeoutMs,
        failures: data.failures,
        retryAfterMs: data.retryAfterMs,
        unknownStatuses: new Set(data.unknownStatuses),
      };
      const pollAt = clock.now();
      const verdict = await checkGeneration(this.options, state, data.lastPollAt ?? startedAt, pollAt);
      data.polls++;
      job.polls = data.polls;
      data.lastPollAt = pollAt;
      data.failures = state.failures;
      data.unknownStatuses = [...state.unknownStatuses];
      if (state.retryAfterMs === undefined) delete data.retryAfterMs;
      else data.retryAfterMs = state.retryAfterMs;
      if ('nextAt' in verdict) return { parkUntil: verdict.nextAt };
      const { outcome } = verdict;
      if (outcome.kind !== 'completed') {
        await steps.finish(run, outcome);
        return 'done';
      }
      data.step = 'deliver';
      data.completed = {
        audioUrl: outcome.audioUrl,
        creditsUsed: outcome.creditsUsed,
        durationMs: outcome.durationMs,
      };
    }

    // deliver
    const completed = data.completed;
    if (completed === undefined) throw new Error('deliver step without a finished generation');
    if (await this.deliveredBefore(run, data)) return 'done';
    data.deliveryStarted = true;
    await save(data);
    await steps.finish(run, { kind: 'completed', ...completed });
    return 'done';
  }

  /**
   * Whether an earlier try at delivery (by a worker that died, or a step that threw after the
   * edit) already put the track in the reply; if so the ledger is brought up to date.
   */
  private async deliveredBefore(run: Run, data: StepData): Promise<boolean> {
    const { completed } = data;
    if (!data.deliveryStarted || completed === undefined || !(await this.options.steps.holdsTrack(run))) {
      return false;
    }
    if (run.job.state.phase === 'submitted') run.job.state = delivering(run.job.state, completed);
    run.job.creditsUsed = completed.creditsUsed;
    run.job.generationMs = Math.round(completed.durationMs);
    await this.options.steps.confirmDelivered(run);
    return true;
  }

  /**
   * A request whose steps kept throwing until its tries ran out: the member is told and its place
   * in the fair gate given up. When even that cannot be done (the store is still down), the job
   * starts over, so the request is never left failed in Redis and open in the ledger.
   */
  private async giveUp(bullJob: BullJob<StepData>): Promise<void> {
    const id = bullJob.id ?? '';
    try {
      const job = await this.options.load(id);
      if (job) {
        const run: Run = { job, logger: jobLogger(this.options.logger, job), progress: noProgress };
        if (!(await this.deliveredBefore(run, bullJob.data))) {
          run.logger.error(
            { tries: bullJob.attemptsMade },
            'giving up on a request whose steps kept failing',
          );
          await this.options.steps.fail(run, gaveUpMessage);
        }
        this.options.observer?.finished(job);
      }
      await this.release(id);
    } catch (error) {
      this.options.logger.error(
        { err: error, requestId: id },
        'could not end a request whose steps kept failing; starting it over',
      );
      await this.options.parts.startOver(bullJob).catch((retryError: unknown) => {
        // Redis too is out of reach: the next worker to start sweeps the ledger and queues it again.
        this.options.logger.error({ err: retryError, requestId: id }, 'could not start the request over');
      });
    }
  }

  private async release(id: string): Promise<void> {
    const admitted = await this.options.parts.gate.release(id);
    await this.options.parts.wake(admitted);
  }
}
