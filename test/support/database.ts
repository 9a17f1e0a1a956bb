/** A fresh database per test file, cloned from the migrated template (fast: no migrations). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  /** A pool for assertions on stored rows. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env['HOOKLINE_TEST_ADMIN_URL'];
  if (!url) throw new Error('HOOKLINE_TEST_ADMIN_URL is not set: run the tests through jest (npm test)');
  return url;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env['HOOKLINE_TEST_TEMPLATE']!;
  // The run id (the pid of the jest process that ran globalSetup) names leftovers for the teardown.
  const name = `hookline_test_${process.env["HOOKLINE_TEST_RUN_ID"]}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 3 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
