import { describe, expect, it } from 'vitest';
import { createJobIntake } from '../../src/generation/intake.js';
import {
  newJob,
  type CancelResult,
  type Enqueued,
  type Job,
  type JobQueue,
  type QueueDepth,
} from '../../src/generation/ports.js';
import { captureLogs } from '../support/log.js';

/** A queue that takes requests, refuses them the way an unreachable Redis does, or is stopping. */
class ListQueue implements JobQueue {
  readonly kind = 'in-process';
  readonly queued: Job[] = [];
  refusal: Error | undefined;
  stopping = false;

  enqueue(job: Job): Promise<Enqueued> {
    if (this.stopping) return Promise.resolve('left');
    if (this.refusal) return Promise.reject(this.refusal);
    this.queued.push(job);
    return Promise.resolve('queued');
  }
  cancel(id: string): Promise<CancelResult> {
    return Promise.resolve(this.queued.some((job) => job.id === id) ? 'cancelled' : 'not-running');
  }
  depth(): Promise<QueueDepth> {
    return Promise.resolve({ waiting: 0, byPhase: {} });
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

const origin = {
  guildId: '100000000000000001',
  channelId: '100000000000000002',
  userId: '200000000000000001',
  reply: { applicationId: '300000000000000001', interactionToken: 'token' },
  uploadLimitBytes: 10 * 1024 * 1024,
};

function setup(ledgerFault?: Error) {
  const queue = new ListQueue();
  const ended: [string, string][] = [];
  const logs = captureLogs();
  const intake = createJobIntake({
    queue,
    ledger: {
      abandoned: (id, reason) => {
        if (ledgerFault) return Promise.reject(ledgerFault);
        ended.push([id, reason]);
        return Promise.resolve();
      },
    },
    logger: logs.logger,
  });
  return { queue, ended, logs, intake };
}

describe('the job intake', () => {
  it('hands a request to the queue and passes cancels on, writing nothing to the ledger', async () => {
    const { queue, ended, intake } = setup();
    const job = newJob('req-1', { prompt: 'lofi', lengthSeconds: 30 }, origin, 1_000);
    expect(await intake.enqueue(job)).toBe('queued');
    expect(queue.queued).toEqual([job]);
    expect(await intake.cancel('req-1', origin.userId)).toBe('cancelled');
    expect(ended).toEqual([]);
  });

  it('ends a request in the ledger when the queue will not take it, then lets the caller know', async () => {
    const { queue, ended, intake } = setup();
    queue.refusal = new Error('Redis did not take the request in time');
    const job = newJob('req-2', { prompt: 'lofi', lengthSeconds: 30 }, origin, 1_000);
    await expect(intake.enqueue(job)).rejects.toBe(queue.refusal);
    expect(ended).toEqual([['req-2', 'the request could not be queued']]);
  });

  it('leaves a request that arrives while the queue stops to the ledger, unended, and says so', async () => {
    const { queue, ended, logs, intake } = setup();
    queue.stopping = true;
    const job = newJob('req-5', { prompt: 'lofi', lengthSeconds: 30 }, origin, 1_000);
    expect(await intake.enqueue(job)).toBe('left');
    expect(ended).toEqual([]);
    expect(logs.lines.find((l) => l.requestId === 'req-5')?.msg).toBe(
      'the bot is stopping: the request is left for the next start',
    );
  });

  it('still lets the caller know when the ledger cannot end the unqueued request either', async () => {
    const { queue, logs, intake } = setup(new Error('the store is unreachable'));
    queue.refusal = new Error('Redis did not take the request in time');
    const job = newJob('req-3', { prompt: 'lofi', lengthSeconds: 30 }, origin, 1_000);
    await expect(intake.enqueue(job)).rejects.toBe(queue.refusal);
    expect(
      logs.lines.find((l) => l.msg === 'the unqueued request could not be ended in the ledger'),
    ).toMatchObject({ requestId: 'req-3', err: { message: 'the store is unreachable' } });
  });

  it('ends an unacknowledged request without queuing it', async () => {
    const { queue, ended, intake } = setup();
    await intake.unacknowledged('req-4');
    expect(ended).toEqual([['req-4', 'the interaction could not be acknowledged']]);
    expect(queue.queued).toEqual([]);
  });
});
