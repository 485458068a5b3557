import { createQueryId, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from 'kysely';

/**
 * A query built and compiled once, then run many times with new values. Kysely builds an
 * operation tree and compiles it to SQL on every execution, which on the reservation's hot path
 * cost more than running the SQL (a burst of `/music` spent about a sixth of its CPU there).
 *
 * Hand-written because no maintained package does this for Kysely 0.29: the query is built with a
 * marker object in place of each named value; after compiling, the markers' positions in the
 * parameter list say where each run's values go. The SQL text never changes, so the driver's
 * statement cache (SQLite) or the server's plan (PostgreSQL) is reused as well.
 */
export interface PreparedQuery<P, R, DB> {
  execute(db: Kysely<DB>, values: P): Promise<QueryResult<R>>;
}

/** Where a named value goes; never reaches the database. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * `build` receives the database and an object with a placeholder for each of the first run's
 * values, typed as the values themselves so the query builder type-checks as usual. Every later run
 * must give the same names (a fixed set of columns, say). A value must go in as a bound parameter
 * (a `where`, a value of `values()`, a `${}` of `sql`); one used any other way (`sql.lit`, an
 * identifier) is refused when the query is first compiled.
 */
export function prepareQuery<P extends Record<string, unknown>, R, DB>(
  build: (db: Kysely<DB>, values: P) => Compilable<R>,
): PreparedQuery<P, R, DB> {
  // Compiled per dialect: a transaction shares its database's adapter object, so the key is that.
  const compiled = new WeakMap<object, { query: CompiledQuery<R>; plan: (string | { value: unknown })[] }>();

  const compile = (db: Kysely<DB>, first: P) => {
    const names = Object.keys(first);
    const placeholders = Object.fromEntries(names.map((name) => [name, new Slot(name)])) as P;
    const query = build(db, placeholders).compile();
    const plan = query.parameters.map((value) => (value instanceof Slot ? value.name : { value }));
    const placed = new Set(plan.filter((step): step is string => typeof step === 'string'));
    const missing = names.filter((name) => !placed.has(name));
    if (missing.length > 0) throw new Error(`prepared query: ${missing.join(', ')} not bound as parameters`);
    return { query, plan };
  };

  return {
    async execute(db, values) {
      const key = db.getExecutor().adapter;
      let entry = compiled.get(key);
      if (entry === undefined) {
        entry = compile(db, values);
        compiled.set(key, entry);
      }
      const parameters = entry.plan.map((step) => {
        if (typeof step !== 'string') return step.value;
        const value = values[step];
        // A missing name would bind nothing where the query expects a value.
        if (value === undefined) throw new Error(`prepared query: no value for ${step}`);
        return value;
      });
      return await db.executeQuery<R>({ ...entry.query, parameters, queryId: createQueryId() });
    },
  };
}
