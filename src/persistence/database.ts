/** Opening the database: the ORM, the hot path's pool and migrations. */
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { createOrmConfig } from '../../mikro-orm.config.js';
import type { Logger } from '../logger.js';
import { createDatabasePool } from './database-pool.js';

// Any fixed number: processes starting together take turns at migrating.
const migrationLockKey = 7_461_920_311;

export interface Database {
  orm: MikroORM;
  pool: pg.Pool;
  /**
   * For the dispatcher's claims only: commits that do not wait for the disk. A claim lost in a
   * crash leaves its delivery queued, to be sent again, as a claim whose process died is handed
   * back by its lease: the same at-least-once delivery, and nothing acknowledged is lost (events
   * and attempt records are committed on the pool above, which waits; each such commit also
   * flushes every claim committed before it).
   *
   * Its sessions also always use the claim's generic plan: the claim takes the due index in
   * order whatever its parameters, but with the small limits of a busy dispatcher (a few
   * slots freed at a time) PostgreSQL's plan cache kept choosing custom plans, planning the
   * statement on every call: 1.35 ms a claim, against 0.01 ms with the generic plan. (The
   * generic plan's cost estimate is large, so JIT is off on these pools: see createDatabasePool.)
   */
  claimPool: pg.Pool;
  close(): Promise<void>;
}

/** Applies pending migrations, one process at a time (a session-level advisory lock). */
export async function migrate(databaseUrl: string, logger: Logger): Promise<void> {
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [migrationLockKey]);
    const orm = await MikroORM.init(createOrmConfig(databaseUrl, { pool: { min: 0, max: 1 } }));
    try {
      const applied = await orm.getMigrator().up();
      if (applied.length) logger.info({ migrations: applied.map((migration) => migration.name) }, 'applied database migrations');
    } finally {
      await orm.close(true);
    }
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [migrationLockKey]).catch(() => undefined);
    await lockClient.end();
  }
}

export async function openDatabase(databaseUrl: string, logger: Logger, options: { poolSize?: number } = {}): Promise<Database> {
  await migrate(databaseUrl, logger);
  const orm = await MikroORM.init(createOrmConfig(databaseUrl));
  const pool = createDatabasePool(databaseUrl, options.poolSize ?? 10);
  // One claim runs at a time per dispatcher; the scheduler's tick may add one more.
  const claimPool = createDatabasePool(databaseUrl, 2, { asynchronousCommit: true, genericPlans: true, applicationName: 'hookline-claims' });
  return {
    orm,
    pool,
    claimPool,
    async close() {
      await pool.end().catch(() => undefined);
      await claimPool.end().catch(() => undefined);
      await orm.close(true).catch(() => undefined);
    },
  };
}
