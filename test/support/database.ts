/** A fresh database per test file, cloned from the migrated template (fast: no migrations). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { generateApiKey } from '../../src/domain/api-keys.js';

/** The API key of each test database's project, by database URL (startTestApp looks it up). */
export const apiKeysByDatabaseUrl = new Map<string, string>();

export interface TestDatabase {
  url: string;
  name: string;
  /** The project every test database starts with, and an API key for it. */
  projectId: string;
  apiKey: string;
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
  const projectId = uuidv7();
  const key = generateApiKey();
  await pool.query(`insert into project (id, name) values ($1, 'test')`, [projectId]);
  await pool.query(`insert into api_key (id, project_id, name, prefix, key_hash) values ($1, $2, 'test', $3, $4)`, [uuidv7(), projectId, key.prefix, key.hash]);
  apiKeysByDatabaseUrl.set(url.toString(), key.key);
  return {
    url: url.toString(),
    name,
    projectId,
    apiKey: key.key,
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
