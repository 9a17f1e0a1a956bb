// Runs once before all test files, as plain Node (outside ts-jest): it uses the compiled
// code in dist/, which `npm test` builds first.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import pg from 'pg';

export default async function globalSetup() {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const { startEmbeddedDatabase } = await import('../../dist/src/persistence/embedded-database.js');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hookline-test-pg-'));
    const embedded = await startEmbeddedDatabase({ dataDir: path.join(dataDir, 'data'), preferredPort: 54339, log: () => undefined });
    globalThis.__hooklineEmbedded = { embedded, dataDir };
    adminUrl = embedded.url;
  }
  const template = `hookline_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  const { migrate } = await import('../../dist/src/persistence/database.js');
  const { createLogger } = await import('../../dist/src/logger.js');
  await migrate(templateUrl.toString(), createLogger('silent'));

  process.env.HOOKLINE_TEST_ADMIN_URL = adminUrl;
  process.env.HOOKLINE_TEST_TEMPLATE = template;
  process.env.HOOKLINE_TEST_RUN_ID = String(process.pid);
  globalThis.__hooklineTemplate = { adminUrl, template };
}
