import { randomBytes } from 'node:crypto';
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
