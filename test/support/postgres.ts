import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The machines run PostgreSQL on 127.0.0.1:5432 with trust auth (`.ci/run` starts it when it is
 * down). Each test gets a database of its own, dropped afterwards, so runs never see each other.
 */
export const testPostgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tracksmith_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/**
 * A PostgreSQL outage as a failover or restart looks to the bot: the database refuses new
 * connections and every open one is ended (`ALTER DATABASE … ALLOW_CONNECTIONS false` and
 * `pg_terminate_backend`). Resolves once it is in effect, with the function that ends it.
 */
export async function refuseConnections(
  name: string,
): Promise<{ downAt: number; allow: () => Promise<number> }> {
  await admin(async (client) => {
    await client.query(`alter database ${name} allow_connections false`);
    await client.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
  });
  return {
    downAt: Date.now(),
    allow: async () => {
      await admin((client) => client.query(`alter database ${name} allow_connections true`));
      return Date.now();
    },
  };
}
