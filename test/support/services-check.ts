import pg from 'pg';
import { Redis } from 'ioredis';
import { testPostgresUrl } from './postgres.js';
import { testRedisUrl } from './redis.js';

/**
 * Vitest global set-up: without the PostgreSQL and Redis the store, queue and end-to-end tests use,
 * stop before any test runs with one line that says what is missing and how to get it, instead of
 * a wall of connection errors from every file.
 */
export default async function checkServices(): Promise<void> {
  const missing = (
    await Promise.all([
      reachPostgres().then(
        () => undefined,
        (error: unknown) => `PostgreSQL at ${redact(testPostgresUrl)} (${reason(error)})`,
      ),
      reachRedis().then(
        () => undefined,
        (error: unknown) => `Redis at ${testRedisUrl} (${reason(error)})`,
      ),
    ])
  ).filter((line): line is string => line !== undefined);
  if (missing.length === 0) return;
  process.stderr.write(
    `npm test needs ${missing.join(' and ')}: start them with \`docker compose up -d test-postgres test-redis\`, or see docs/contributing.md\n`,
  );
  process.exit(1);
}

async function reachPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reachRedis(): Promise<void> {
  const redis = new Redis(testRedisUrl, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis reports a refused connection as an 'error' event (with its code) and then rejects
  // with a plain "Connection is closed".
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw cause ?? error;
  } finally {
    redis.disconnect();
  }
}

function reason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
