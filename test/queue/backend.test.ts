import { afterEach, describe, expect, it } from 'vitest';
import { newJob } from '../../src/generation/ports.js';
import { createRedisBackend } from '../../src/generation/redis/backend.js';
import { captureLogs } from '../support/log.js';
import { createTestRedisSpace, type TestRedisSpace } from '../support/redis.js';

let space: TestRedisSpace | undefined;
afterEach(async () => {
  await space?.drop();
  space = undefined;
});

describe('the Redis queue backend', () => {
  it('answers for Redis while it runs, and closes its connection when it stops', async () => {
    space = createTestRedisSpace();
    const { logger } = captureLogs();
    // A gateway's backend: it enqueues, and runs no worker.
    const backend = createRedisBackend({
      redis: { url: space.url, prefix: space.prefix, globalLimit: 2 },
      logger,
      relayLogger: logger,
      isOpen: () => Promise.resolve(true),
      worker: undefined,
    });
    await backend.connect();
    await backend.start();
    expect(await backend.health()).toEqual({ redis: 'ok' });

    const job = newJob(
      'req-1',
      { prompt: 'lofi', lengthSeconds: 30 },
      {
        guildId: '100000000000000001',
        channelId: '100000000000000002',
        userId: '200000000000000001',
        reply: { applicationId: '300000000000000001', interactionToken: 'token' },
        uploadLimitBytes: 10 * 1024 * 1024,
      },
      1_000,
    );
    await backend.queue.enqueue(job);
    expect((await backend.queue.depth()).shared).toEqual({ ready: 1, delayed: 0, active: 0 });

    await backend.stop();
    // The request stays in Redis for a worker; this process's connection to it is gone.
    expect(await backend.health()).toEqual({ redis: 'unreachable' });
    expect(await space.keys()).toContain(`${space.prefix}:requests:req-1`);
  });
});
