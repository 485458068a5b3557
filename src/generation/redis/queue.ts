import { Queue, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import pTimeout from 'p-timeout';
import type { CancelResult, Enqueued, Generation, Job, JobPhase, JobQueue, QueueDepth } from '../ports.js';
import { RedisFairGate } from './fair-gate.js';
import type { QueueWorker } from './worker.js';

/** The BullMQ queue every gateway adds to and every worker takes from. */
export const QUEUE_NAME = 'requests';

/** A request's place in the pipeline, kept in its BullMQ job between steps. */
export interface StepData {
  step: 'admit' | 'submit' | 'poll' | 'deliver';
  guildId: string;
  /**
   * The provider's generation, kept here as soon as it answers the POST (before the ledger write),
   * so that the next step (on any worker) can check it without the ledger.
   */
  generation?: Generation;
  userId: string;
  /** What the reply last showed, and when it was edited. */
  shownPosition?: number;
  shownPhase?: JobPhase;
  lastEditAt?: number;
  polls: number;
  failures: number;
  retryAfterMs?: number;
  lastPollAt?: number;
  unknownStatuses?: string[];
  /** What the provider said when it finished. */
  completed?: { audioUrl: string; creditsUsed: number | undefined; durationMs: number };
  /** Set before the delivery edit: a worker that takes the job over checks the reply first. */
  deliveryStarted?: boolean;
}

export interface RedisQueueOptions {
  url: string;
  /** Namespaces every key this deployment writes, so several can share one Redis. */
  prefix: string;
  /** `MAX_CONCURRENT_GENERATIONS`, across every worker. */
  globalLimit: number;
  /**
   * How long a gateway waits for Redis to take a request before telling the member it could not
   * be queued (the ledger then ends it, so a late arrival in the queue does nothing). Default 10 s.
   */
  enqueueTimeoutMs?: number;
  /**
   * Tries a request's steps get, between them, before the worker gives up on it (default 12,
   * about 34 minutes of waits doubling from 1 s): enough to ride out a store or network outage.
   */
  stepRetry?: { attempts?: number; firstDelayMs?: number };
  onOutage?: (error: Error) => void;
  onRecovery?: () => void;
}

/** The connections and names that the gateway's producer and the workers share. */
export class RedisQueueParts {
  readonly redis: Redis;
  readonly queue: Queue<StepData>;
  readonly gate: RedisFairGate;
  /** Where the connections' errors go: once per outage. */
  readonly reportError: (error: Error) => void;

  constructor(readonly options: RedisQueueOptions) {
    // BullMQ's blocking reads need commands that wait for a reconnect rather than fail.
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.queue = new Queue<StepData>(QUEUE_NAME, {
      connection: this.redis,
      prefix: options.prefix,
      defaultJobOptions: {
        // A step that throws (a store outage, say) is tried again, further apart each time.
        attempts: options.stepRetry?.attempts ?? 12,
        backoff: { type: 'exponential', delay: options.stepRetry?.firstDelayMs ?? 1_000 },
        // Kept a day after they end, so that a repeated enqueue of the same request is a no-op.
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    // An outage is reported once, and its end once; ioredis and BullMQ would otherwise print
    // every reconnection attempt.
    let down = false;
    this.reportError = (error) => {
      if (down) return;
      down = true;
      options.onOutage?.(error);
    };
    this.redis.on('error', this.reportError);
    this.redis.on('ready', () => {
      if (!down) return;
      down = false;
      options.onRecovery?.();
    });
    this.queue.on('error', this.reportError);
    this.gate = new RedisFairGate(this.redis, `${options.prefix}:gate:`, options.globalLimit);
  }

  cancelKey(id: string): string {
    return `${this.options.prefix}:cancel:${id}`;
  }

  /**
   * Resolves once Redis answers. At start a Redis that refuses or stays silent fails the start
   * with a plain reason; later outages are ridden out by reconnecting.
   */
  async connect(timeoutMs = 10_000): Promise<void> {
    let onError: ((error: Error) => void) | undefined;
    const refused = new Promise<never>((_, reject) => {
      onError = (error) => reject(new Error(`Redis (REDIS_URL) is unreachable: ${error.message}`));
      this.redis.once('error', onError);
    });
    try {
      await pTimeout(Promise.race([this.queue.waitUntilReady().then(() => this.redis.ping()), refused]), {
        milliseconds: timeoutMs,
        message: `Redis (REDIS_URL) did not answer within ${timeoutMs / 1000} s`,
      });
    } finally {
      if (onError) this.redis.off('error', onError);
    }
  }

  /** Wakes parked jobs now (a slot freed for them, or a member cancelled); ones not parked are left. */
  async wake(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const job = await this.queue.getJob(id);
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }),
    );
  }

  /** Starts a job that gave up over again, with its full allowance of tries. */
  async startOver(job: BullJob<StepData>): Promise<void> {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  /** Closes cleanly when Redis answers, and drops the connection when it does not. */
  async close(): Promise<void> {
    try {
      await pTimeout(
        this.queue.close().then(() => this.redis.quit()),
        { milliseconds: 3_000, message: 'Redis did not answer the close' },
      );
    } catch {
      this.redis.disconnect();
    }
  }
}

/** Initial step data for a request that has a ledger row. */
export function firstStep(job: Pick<Job, 'origin'>): StepData {
  return { step: 'admit', guildId: job.origin.guildId, userId: job.origin.userId, polls: 0, failures: 0 };
}

/**
 * The JobQueue on Redis: a request becomes one BullMQ job whose ID is the request's own, so adding
 * it twice (a retry, a worker's start-up sweep) adds it once. Workers (`worker.ts`) carry it
 * through its steps, this process's own among them when it runs one.
 */
export class RedisJobQueue implements JobQueue {
  readonly kind = 'redis';
  private stopped = false;

  constructor(
    private readonly parts: RedisQueueParts,
    /** Whether the ledger still has the request open: it ends there before its queue job does. */
    private readonly isOpen: (id: string) => Promise<boolean>,
    /** This process's worker, when it works as well as enqueues. */
    private readonly worker?: QueueWorker,
  ) {}

  async enqueue(job: Job): Promise<Enqueued> {
    if (this.stopping()) return 'left';
    try {
      const queued = await pTimeout(this.parts.queue.add('request', firstStep(job), { jobId: job.id }), {
        milliseconds: this.parts.options.enqueueTimeoutMs ?? 10_000,
        message: 'Redis did not take the request in time',
      });
      // A job that gave up (its step kept throwing, say while the store was down) while the ledger
      // still calls the request unfinished is given another go.
      if (await queued.isFailed()) await this.parts.startOver(queued);
      return 'queued';
    } catch (error) {
      // The stop closed the connection under it: whether or not Redis took it, the ledger still
      // has it, and the next start queues it again (a second add of the same ID is a no-op).
      if (this.stopping()) return 'left';
      throw error;
    }
  }

  /** A method, not the field: the stop begins while an enqueue awaits Redis. */
  private stopping(): boolean {
    return this.stopped;
  }

  async cancel(id: string, byUserId: string): Promise<CancelResult> {
    const job = await this.parts.queue.getJob(id);
    if (!job || !(await this.isOpen(id))) return 'not-running';
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return 'not-running';
    if (job.data.step === 'deliver') return 'too-late';
    // The first to cancel is the one the reply names.
    await this.parts.redis.set(this.parts.cancelKey(id), byUserId, 'EX', 24 * 3600, 'NX');
    await this.parts.wake([id]);
    return 'cancelled';
  }

  async depth(): Promise<QueueDepth> {
    const [counts, gate] = await Promise.all([
      this.parts.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
      this.parts.gate.counts(),
    ]);
    return {
      waiting: gate.waiting,
      byPhase: this.worker?.byPhase() ?? {},
      shared: {
        ready: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
      },
    };
  }

  /**
   * The worker first: its steps in flight still use the connection (and the store, which the app
   * closes after this). Then the producer and the connection itself.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.worker?.stop();
    await this.parts.close();
  }
}
