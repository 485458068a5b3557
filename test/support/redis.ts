import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/**
 * The machines run Redis on 127.0.0.1:6379 (`.ci/run` starts it when it is down). Each test uses a
 * key prefix of its own and deletes its keys afterwards, so runs and tests never see each other.
 */
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedisSpace {
  url: string;
  prefix: string;
  /** Environment for an app that uses this space. */
  env: { REDIS_URL: string; REDIS_PREFIX: string };
  /** Keys written under the prefix, e.g. to check that nothing is left behind. */
  keys(): Promise<string[]>;
  /** Runs `work` on a connection of its own, closed afterwards (to reach into the queue's keys). */
  withClient<T>(work: (redis: Redis) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export function createTestRedisSpace(): TestRedisSpace {
  const prefix = `tstest-${process.pid}-${randomBytes(4).toString('hex')}`;
  const withClient = async <T>(work: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  };
  const keys = () => withClient((redis) => scan(redis, `${prefix}:*`));
  return {
    url: testRedisUrl,
    prefix,
    env: { REDIS_URL: testRedisUrl, REDIS_PREFIX: prefix },
    keys,
    withClient,
    drop: () =>
      withClient(async (redis) => {
        const found = await scan(redis, `${prefix}:*`);
        for (let i = 0; i < found.length; i += 500) await redis.del(...found.slice(i, i + 500));
      }),
  };
}

async function scan(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

/** A TCP relay to the test Redis that a test can cut, as a network fault or a Redis outage would. */
export interface RedisRelay {
  url: string;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisRelay(): Promise<RedisRelay> {
  const target = new URL(testRedisUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: stop,
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
