import type { Logger } from '../log.js';
import type { FairGate } from './gate.js';
import { generationOf } from './job.js';
import type { Lull } from './lull.js';
import { ProgressThrottle } from './progress.js';
import {
  CANCELLABLE_PHASES,
  countByPhase,
  hasEnded,
  type CancelResult,
  type Clock,
  type Enqueued,
  type Job,
  type JobObserver,
  type JobQueue,
  type QueueDepth,
} from './ports.js';
import { leaveLine, startGeneration, waitInLine } from './sequence.js';
import { jobLogger, type JobSteps, type Run as StepRun } from './steps.js';
import type { Tracker } from './tracker.js';

export interface InProcessQueueOptions {
  steps: JobSteps;
  tracker: Tracker;
  /** Admission: a global limit, each server's `concurrent`, and a fair order between them. */
  gate: FairGate;
  clock: Clock;
  logger: Logger;
  /** Least time between two progress edits of one reply. */
  progressIntervalMs: number;
  observer?: JobObserver;
  /** When set, a job's work (its place in line, submission, edits) waits for the burst's acknowledgements. */
  lull?: Lull;
}

/** One job on its way in this process, with what its steps share. */
interface Run extends StepRun {
  progress: ProgressThrottle;
  /** Resolves when someone cancels the job, so a wait in line can end early. */
  cancelled: Promise<void>;
  wake: () => void;
  /** The whole job, settled when it ends or stops; shutdown waits for it. */
  work: Promise<void>;
}

/**
 * The default JobQueue: every job lives in this process, from its wait for a slot through the
 * tracker's polls to delivery. A job left unfinished at shutdown stays in the ledger and is
 * enqueued again on the next start.
 */
export class InProcessQueue implements JobQueue {
  readonly kind = 'in-process';
  /** Jobs of this process from admission to their end. */
  private readonly runs = new Map<string, Run>();
  private stopping = false;

  constructor(private readonly options: InProcessQueueOptions) {}

  /**
   * Accepts a request and returns at once; the work carries on in the background. A submitted job
   * (one resumed after a restart) is tracked again, never submitted twice.
   */
  enqueue(job: Job): Promise<Enqueued> {
    if (this.stopping) return Promise.resolve('left');
    if (!this.runs.has(job.id)) this.launch(job);
    return Promise.resolve('queued');
  }

  /**
   * Stops a job that the provider has not finished: it leaves the line, or its tracking ends. A
   * generation already submitted still runs at the provider; the bot just stops waiting for it.
   */
  cancel(id: string, byUserId: string): Promise<CancelResult> {
    return Promise.resolve(this.cancelNow(id, byUserId));
  }

  /** Jobs of this process by phase, and how many wait for a slot. */
  depth(): Promise<QueueDepth> {
    const byPhase = countByPhase([...this.runs.values()].map((run) => run.job));
    return Promise.resolve({ byPhase, waiting: this.options.gate.waiting() });
  }

  /** Stops admitting and tracking, and waits for the steps in flight (a submission, an edit) to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.options.gate.close();
    this.options.tracker.stop();
    await Promise.allSettled([...this.runs.values()].map((run) => run.work));
  }

  private cancelNow(id: string, byUserId: string): CancelResult {
    const run = this.runs.get(id);
    if (!run) return 'not-running';
    const { job } = run;
    if (job.cancelledBy !== undefined) return 'cancelled';
    if (!CANCELLABLE_PHASES.includes(job.phase)) return 'too-late';
    job.cancelledBy = byUserId;
    run.wake();
    const generationId = generationOf(job.state);
    if (generationId !== undefined) this.options.tracker.cancel(generationId);
    return 'cancelled';
  }

  private launch(job: Job): void {
    const logger = jobLogger(this.options.logger, job);
    let wake!: () => void;
    const cancelled = new Promise<void>((resolve) => (wake = resolve));
    const run: Run = {
      job,
      logger,
      cancelled,
      wake,
      work: Promise.resolve(),
      progress: new ProgressThrottle(
        () => this.options.steps.showProgress(run),
        this.options.clock,
        this.options.progressIntervalMs,
      ),
    };
    this.runs.set(job.id, run);
    run.work = this.afterLull()
      .then(() => {
        if (!this.stopping) return this.admitThenRun(run);
        // Stopped while it waited: a cancelled job ends as such; any other stays in the ledger
        // for the next start.
        return job.cancelledBy === undefined ? undefined : this.options.steps.endCancelled(run);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'job crashed');
      })
      .finally(() => {
        this.runs.delete(job.id);
        // A job left for the next start (shutdown) has not ended.
        if (hasEnded(job)) this.options.observer?.finished(job);
      });
  }

  /** Acknowledgements first (see `lull.ts`): a burst's are all out before its jobs start work. */
  private async afterLull(): Promise<void> {
    await this.options.lull?.quiet();
  }

  private async admitThenRun(run: Run): Promise<void> {
    const { job } = run;
    const ticket = this.options.gate.enter(job.origin.guildId, job.origin.userId, (position) => {
      waitInLine(run, position, job.queuePosition);
    });
    try {
      await Promise.race([ticket.admitted, run.cancelled]);
      leaveLine(run);
      if (job.cancelledBy !== undefined) await this.options.steps.endCancelled(run);
      // A job still waiting when the bot stops stays in the ledger and is picked up on the next start.
      else if (!this.stopping) await this.submitAndTrack(run);
    } finally {
      await run.progress.settle();
      ticket.release();
    }
  }

  private async submitAndTrack(run: Run): Promise<void> {
    const { job } = run;
    const generation = await startGeneration(this.options.steps, run);
    if (generation === undefined) return;

    const result = await this.options.tracker.track(
      generation.generationId,
      run.logger,
      generation.submittedAt,
      job.request.lengthSeconds,
    );
    job.polls += result.polls;
    if (result.kind === 'stopped') {
      // The ledger still holds the job as submitted: the next start tracks it again.
      run.logger.info('tracking stopped before the job ended; it resumes on the next start');
      return;
    }
    await this.options.steps.finish(run, result);
  }
}
