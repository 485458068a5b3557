import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  sql,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type Transaction,
} from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import { isInMemoryStore, isPostgresUrl } from './store-url.js';
import type { Schema } from './schema.js';

export type Db = Kysely<Schema>;

export interface Database {
  readonly db: Db;
  /** Where the data lives, for logs (never contains credentials). */
  readonly location: string;
  /** SQLite lives on one host; PostgreSQL can be shared by processes on many. */
  readonly dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/** Thrown for a DATABASE_URL the bot cannot use; the message is meant for the operator. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/**
 * Opens the store named by `url` (a `postgres://` URL, or SQLite: a `sqlite:` URL, a path, or the
 * default file under `dataDir`) and brings its schema up to date. The dialect is chosen here and
 * nowhere else: the repositories and migrations are the same on both.
 */
export async function openDatabase(options: {
  url: string | undefined;
  dataDir: string;
  /** Told about a pooled PostgreSQL connection that broke while idle (the pool replaces it). */
  onConnectionError?: (error: Error) => void;
}): Promise<Database> {
  const { dialect, location } = dialectFor(options.url, options.dataDir, options.onConnectionError);
  const db = new Kysely<Schema>({ dialect });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    await db.destroy();
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
  return {
    db,
    location,
    dialect: isPostgresUrl(options.url) ? 'postgres' : 'sqlite',
    close: () => db.destroy(),
  };
}

function dialectFor(
  url: string | undefined,
  dataDir: string,
  onConnectionError: ((error: Error) => void) | undefined,
): { dialect: Dialect; location: string } {
  if (isPostgresUrl(url)) return postgresDialect(url, onConnectionError);
  const file = sqliteFile(url, dataDir);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  // WAL lets readers carry on while a write commits; the busy timeout rides out a second process.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  return { dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }), location: file };
}

/**
 * PostgreSQL through `pg`. Its 64-bit integers (our epoch-millisecond times, and counts) arrive as
 * strings by default; every value the bot stores fits a JavaScript number exactly, so they are
 * read as numbers and the repositories see the same types as on SQLite.
 */
function postgresDialect(
  url: string,
  onConnectionError: ((error: Error) => void) | undefined,
): { dialect: Dialect; location: string } {
  let location: string;
  try {
    const parsed = new URL(url);
    location = `postgres://${parsed.host}${parsed.pathname}`;
  } catch {
    throw new DatabaseUrlError('DATABASE_URL is not a valid postgres:// URL.');
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle connection the server closes (a restart, a failover) is an 'error' event on the pool;
  // unheard, it would end the process. The pool drops that client and connects anew when needed.
  pool.on('error', (error) => onConnectionError?.(error));
  // The pool listens for errors only on idle clients. One checked out between two queries (inside
  // a transaction, or just acquired) that the server ends (a restart, pg_terminate_backend) would
  // emit an error nobody hears, which ends the process; every client gets a listener for life.
  pool.on('connect', (client) => {
    client.on('error', (error) => onConnectionError?.(error));
  });
  return { dialect: new PostgresDialect({ pool }), location };
}

/**
 * Serialises the writers of one server for the rest of the transaction, so that checking a limit
 * and writing the row that uses it cannot interleave with another request of the same server. On
 * SQLite the transaction already holds the write lock (`begin immediate`); on PostgreSQL a
 * transaction-scoped advisory lock keyed by the server does it, without locking other servers.
 */
export async function lockGuild(trx: Transaction<Schema>, guildId: string): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtext(${guildId}))`.execute(trx);
  }
}

/**
 * Kysely prepares every query afresh; the bot runs the same few dozen statements over and over, and
 * preparing was the largest single cost of a reservation. Statements are cached by their SQL (the
 * values are bound parameters, so the set stays small). Safe because better-sqlite3 runs each
 * statement to completion synchronously, and the bot never streams a query.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        // A runaway variety of SQL would mean a bug; a bounded cache keeps it from costing memory.
        if (statements.size >= 500) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * SQLite transactions that take the write lock when they begin. Kysely's plain `begin` defers it
 * to the first write, so two processes (or two connections) could both read "2 of 3 used" and
 * then both insert; with `begin immediate` the second waits (busy_timeout) and reads the truth.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

function sqliteFile(url: string | undefined, dataDir: string): string {
  if (!url) return resolve(join(dataDir, 'tracksmith.sqlite'));
  if (isInMemoryStore(url)) return ':memory:';
  if (url.startsWith('sqlite://')) {
    const path = decodeURIComponent(url.slice('sqlite://'.length));
    if (!isAbsolute(path))
      throw new DatabaseUrlError(
        'A sqlite:// DATABASE_URL needs an absolute path: sqlite:///data/file.sqlite',
      );
    return path;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new DatabaseUrlError(`DATABASE_URL scheme is not supported: ${url.split(':')[0] ?? ''}`);
  return resolve(url);
}
