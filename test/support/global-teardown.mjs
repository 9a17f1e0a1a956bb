import { rm } from 'node:fs/promises';
import pg from 'pg';

export default async function globalTeardown() {
  const { adminUrl, template } = globalThis.__hooklineTemplate ?? {};
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    // Test files drop their own databases; this catches what a crashed file left behind.
    const leftovers = await admin.query(`select datname from pg_database where datname like 'hookline_test_${process.pid}_%'`);
    for (const row of leftovers.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`).catch(() => undefined);
    await admin.query(`drop database if exists ${template} with (force)`).catch(() => undefined);
    await admin.end();
  }
  const embedded = globalThis.__hooklineEmbedded;
  if (embedded) {
    await embedded.embedded.stop();
    await rm(embedded.dataDir, { recursive: true, force: true });
  }
}
