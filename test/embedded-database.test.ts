import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
  type EmbeddedDatabaseOptions,
} from '../src/persistence/embedded-database.js';

/** The part of `pg` used here; `pg` ships no type declarations and @types/pg is not installed. */
interface QueryClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}
const { Client } = createRequire(import.meta.url)('pg') as {
  Client: new (config: { connectionString: string }) => QueryClient;
};

const TEST_TIMEOUT_MS = 30_000;

interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

const temporaryDirectories: string[] = [];
const runningDatabases: EmbeddedDatabase[] = [];

async function createDataDir(): Promise<string> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'hookline-embedded-database-'));
  temporaryDirectories.push(directory);
  // A subdirectory, like the real ./.hookline/postgres: the cluster is created inside an existing parent.
  return path.join(directory, 'postgres');
}

async function start(dataDir: string, extra: Partial<EmbeddedDatabaseOptions> = {}) {
  const logs: LogEntry[] = [];
  const startedAt = Date.now();
  const database = await startEmbeddedDatabase({
    dataDir,
    log: (level, message, fields) => logs.push({ level, message, fields }),
    ...extra,
  });
  const elapsedMs = Date.now() - startedAt;
  runningDatabases.push(database);
  return { database, logs, elapsedMs };
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Gone, or a zombie that is dead but not yet collected by its parent. */
async function isProcessGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return /^State:\s+Z/m.test(status);
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

afterEach(async () => {
  await Promise.all(runningDatabases.splice(0).map((database) => database.stop()));
});

afterAll(async () => {
  await Promise.all(temporaryDirectories.map((directory) => fs.rm(directory, { recursive: true, force: true })));
});

describe('startEmbeddedDatabase', () => {
  test(
    'starts cold, serves queries, and keeps data across a warm restart',
    async () => {
      const dataDir = await createDataDir();

      const cold = await start(dataDir);
      expect(cold.database.url).toBe(`postgres://postgres:postgres@127.0.0.1:${cold.database.port}/hookline`);
      expect(await query(cold.database.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      await query(cold.database.url, "create table survivors (name text); insert into survivors values ('first run')");
      await cold.database.stop();
      await cold.database.stop(); // idempotent

      const warm = await start(dataDir);
      expect(await query(warm.database.url, 'select name from survivors')).toEqual([{ name: 'first run' }]);
      expect(warm.logs.some((entry) => entry.message.includes('initialising'))).toBe(false);
      expect(warm.logs.some((entry) => entry.message.startsWith('created database'))).toBe(false);
      console.info(`embedded PostgreSQL cold start ${cold.elapsedMs} ms, warm start ${warm.elapsedMs} ms`);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'recovers after the postmaster was killed with SIGKILL',
    async () => {
      const dataDir = await createDataDir();
      const first = await start(dataDir);
      await query(first.database.url, "create table survivors (name text); insert into survivors values ('before crash')");

      const lockFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
      const postmasterPid = Number.parseInt(lockFile.split('\n')[0] ?? '', 10);
      process.kill(postmasterPid, 'SIGKILL');
      await waitUntil(() => isProcessGone(postmasterPid), 10_000, `postmaster ${postmasterPid} to exit`);
      await waitUntil(
        async () => first.logs.some((entry) => entry.level === 'error' && entry.message.includes('unexpectedly')),
        5_000,
        'the crash to be reported',
      );
      await first.database.stop(); // must not hang on an already dead server

      const recovered = await start(dataDir);
      expect(recovered.logs).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: `recovered a stale embedded PostgreSQL left by an unclean stop (pid ${postmasterPid})`,
        }),
      );
      expect(await query(recovered.database.url, 'select name from survivors')).toEqual([{ name: 'before crash' }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'refuses a data directory that a running instance is using',
    async () => {
      const dataDir = await createDataDir();
      const running = await start(dataDir);

      await expect(start(dataDir)).rejects.toThrow(/Another process is using the embedded PostgreSQL data directory/);
      expect(await query(running.database.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'falls back to a free port when the preferred port is taken',
    async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
      const takenPort = (blocker.address() as net.AddressInfo).port;
      try {
        const { database, logs } = await start(await createDataDir(), { preferredPort: takenPort });
        expect(database.port).not.toBe(takenPort);
        expect(database.url).toContain(`:${database.port}/hookline`);
        expect(await query(database.url, 'select 1 as one')).toEqual([{ one: 1 }]);
        expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining(`port ${takenPort} is in use`) }));
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    },
    TEST_TIMEOUT_MS,
  );
});
