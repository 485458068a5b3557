import type { Logger } from '../log.js';
import type { CancelResult, Enqueued, Job, JobLedger, JobQueue } from './ports.js';

/**
 * The core's front desk, as the chat layer sees it: it hands requests over and asks for them to
 * stop. The core owns the job, so every ledger write about it happens behind here, including for
 * a request that never got as far as the queue.
 */
export interface JobIntake {
  /**
   * Queues a request whose ledger row exists. When the queue cannot take it, the request is ended
   * in the ledger first (so its slot goes back), and then this rejects: the member should be told.
   * A request that arrives while the bot stops is left to the next start (see `JobQueue`).
   */
  enqueue(job: Job): Promise<Enqueued>;
  /**
   * A reserved request whose acknowledgement failed: the member never saw it start, so it must
   * not be made later as if they had. It ends in the ledger without being queued.
   */
  unacknowledged(id: string): Promise<void>;
  /** Asks for a request to stop; the job then edits its own reply to say who stopped it. */
  cancel(id: string, byUserId: string): Promise<CancelResult>;
}

export function createJobIntake(options: {
  queue: JobQueue;
  ledger: Pick<JobLedger, 'abandoned'>;
  logger: Logger;
}): JobIntake {
  const { queue, ledger, logger } = options;
  return {
    async enqueue(job) {
      try {
        const enqueued = await queue.enqueue(job);
        if (enqueued === 'left') {
          logger.info({ requestId: job.id }, 'the bot is stopping: the request is left for the next start');
        }
        return enqueued;
      } catch (error) {
        await ledger
          .abandoned(job.id, 'the request could not be queued')
          .catch((storeError: unknown) =>
            logger.error(
              { err: storeError, requestId: job.id },
              'the unqueued request could not be ended in the ledger',
            ),
          );
        throw error;
      }
    },
    unacknowledged: (id) => ledger.abandoned(id, 'the interaction could not be acknowledged'),
    cancel: (id, byUserId) => queue.cancel(id, byUserId),
  };
}
