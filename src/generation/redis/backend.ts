import type { Logger } from '../../log.js';
import type { QueueBackend } from '../ports.js';
import { RedisJobQueue, RedisQueueParts, type RedisQueueOptions } from './queue.js';
import { createRedisRelay, deliveredChannel } from './relay.js';
import { QueueWorker, type QueueWorkerOptions } from './worker.js';

export interface RedisBackendOptions {
  redis: Omit<RedisQueueOptions, 'onOutage' | 'onRecovery'>;
  logger: Logger;
  /** Where the voice relay logs (the gateway's side of it). */
  relayLogger: Logger;
  /** Whether the ledger still has the request open (a cancel of an ended request does nothing). */
  isOpen: (id: string) => Promise<boolean>;
  /** This process's worker, when it works (every role but the gateway); undefined for a gateway. */
  worker: Omit<QueueWorkerOptions, 'parts'> | undefined;
}

/**
 * The queue on Redis (BullMQ) with what it runs on: one connection shared by the producer, the
 * fair gate and, unless this process is a gateway only, a worker; and the relay that carries
 * delivered tracks from workers to the gateway's voice connections.
 */
export function createRedisBackend(options: RedisBackendOptions): QueueBackend {
  const { logger } = options;
  const parts = new RedisQueueParts({
    ...options.redis,
    onOutage: (error) => logger.error({ err: error }, 'Redis is unreachable; retrying'),
    onRecovery: () => logger.info('Redis is back'),
  });
  const worker = options.worker && new QueueWorker({ ...options.worker, parts });
  const queue = new RedisJobQueue(parts, options.isOpen, worker);
  return {
    queue,
    relay: createRedisRelay(parts.redis, deliveredChannel(options.redis.prefix), options.relayLogger),
    connect: () => parts.connect(),
    start() {
      worker?.start();
      return Promise.resolve();
    },
    stop: () => queue.stop(),
    async health() {
      const redis = await parts.redis
        .ping()
        .then(() => 'ok' as const)
        .catch(() => 'unreachable' as const);
      return { redis };
    },
  };
}
