/**
 * The pg pool for the hot path's hand-written SQL (claims, attempt records, publishing).
 * MikroORM keeps its own pool for the API side's entities.
 */
import pg from 'pg';

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

// Timestamps come back as Date (the default); bigint counts come back as numbers, since
// ours stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  /**
   * Commits return before their WAL is flushed to disk (`synchronous_commit = off` for the
   * pool's sessions). Only for writes whose loss in a crash is harmless (see Database.claimPool).
   */
  asynchronousCommit?: boolean;
  /**
   * Prepared statements always run their generic plan (`plan_cache_mode = force_generic_plan`),
   * planned once per connection. For a pool that runs one statement whose best plan does not
   * depend on its parameters (see Database.claimPool).
   */
  genericPlans?: boolean;
  /** Shown in pg_stat_activity, to tell the pools' connections apart. */
  applicationName?: string;
}

export function createDatabasePool(databaseUrl: string, max = 10, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: options.applicationName ?? 'hookline',
  });
  // An idle client losing its connection (a database restart) must not crash the process.
  pool.on('error', () => undefined);
  // Session settings, sent as the first statement of every new connection (queries run in
  // order, so nothing runs before them); as SET rather than a startup `options` parameter,
  // which connection poolers such as PgBouncer refuse by default.
  const settings = [
    // No JIT compilation: these are short statements, and a plan estimated as costly (a generic
    // plan over a large backlog is) would spend about 40 ms compiling on every call.
    'set jit = off',
    ...(options.asynchronousCommit ? ['set synchronous_commit = off'] : []),
    ...(options.genericPlans ? ['set plan_cache_mode = force_generic_plan'] : []),
  ].join('; ');
  pool.on('connect', (client) => {
    // A failure shows up on the connection's next query too; the pool's error handler has it here.
    client.query(settings).catch((error) => pool.emit('error', error, client));
  });
  return pool;
}

/** Runs `work` in one transaction on one pooled connection. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
