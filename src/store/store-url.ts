/**
 * What a DATABASE_URL names, without opening it: config checks it at start-up, so this module
 * loads no database driver.
 */

/** Whether `url` selects PostgreSQL; anything else is SQLite. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:/i.test(url);
}

/** Whether `url` names a SQLite store that lives only inside the process that opens it. */
export function isInMemoryStore(url: string | undefined): boolean {
  return url === 'sqlite::memory:' || url === ':memory:';
}
