/**
 * The real server as a child process (node dist/src/main.js), for tests that kill it or send
 * it signals. It runs from a snapshot of dist/ taken once per test file, so a rebuild running
 * alongside (`npm run build` empties dist/ first) cannot pull the files out from under it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from '@jest/globals';
import { apiKeysByDatabaseUrl } from './database.js';
import { registerApiKey } from './graphql.js';
import { waitFor } from './wait.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
let snapshot: Promise<string> | null = null;
let snapshotDirectory: string | null = null;

function builtServer(): Promise<string> {
  snapshot ??= (async () => {
    const built = path.join(projectRoot, 'dist', 'src', 'main.js');
    await waitFor(() => existsSync(built), { timeoutMs: 60_000, intervalMs: 200, description: `${built} (run npm run build first)` });
    snapshotDirectory = await mkdtemp(path.join(os.tmpdir(), 'hookline-server-process-'));
    await cp(path.join(projectRoot, 'dist'), path.join(snapshotDirectory, 'dist'), { recursive: true });
    await cp(path.join(projectRoot, 'package.json'), path.join(snapshotDirectory, 'package.json'));
    await symlink(path.join(projectRoot, 'node_modules'), path.join(snapshotDirectory, 'node_modules'), 'dir');
    return path.join(snapshotDirectory, 'dist', 'src', 'main.js');
  })();
  return snapshot;
}

afterAll(async () => {
  if (snapshotDirectory) await rm(snapshotDirectory, { recursive: true, force: true });
});

export interface ServerProcess {
  process: ChildProcess;
  pid: number;
  /** The GraphQL endpoint. */
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** What it printed (warnings and errors), for failure messages. */
  output(): string;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a server process on the database and waits until it is healthy. `onCleanup` receives
 * what kills it (if still running) at the end of the test. Requests to its URL carry the test
 * database's API key.
 */
export async function startServerProcess(databaseUrl: string, onCleanup: (cleanup: () => Promise<void>) => void): Promise<ServerProcess> {
  const mainScript = await builtServer();
  const port = await freePort();
  // The child's configuration is only what we give it, not whatever this shell had set.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(HOOKLINE_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(name)));
  const child = spawn(process.execPath, [mainScript], {
    cwd: path.dirname(path.dirname(path.dirname(mainScript))),
    env: {
      ...inherited,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      HOOKLINE_LEASE_MARGIN_MS: '1000',
      // The receivers listen on 127.0.0.1; the data dir is the copy's own, never the repository's.
      HOOKLINE_ALLOW_PRIVATE_NETWORKS: '1',
      HOOKLINE_DATA_DIR: path.join(path.dirname(mainScript), '.hookline'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exitedAlready = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      resolve({ code, signal });
    }),
  );
  onCleanup(async () => {
    if (!exitedAlready) child.kill('SIGKILL');
    await exited;
  });
  const server: ServerProcess = { process: child, pid: child.pid!, url: `http://127.0.0.1:${port}/graphql`, exited, hasExited: () => exitedAlready, output: () => output };
  const apiKey = apiKeysByDatabaseUrl.get(databaseUrl);
  if (apiKey) registerApiKey(server.url, apiKey);
  try {
    await waitFor(
      async () => {
        if (exitedAlready) return true;
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'the server process to be healthy' },
    );
  } catch (error) {
    throw new Error(`${String(error)}; its output: ${output}`);
  }
  if (exitedAlready) throw new Error(`the server process exited while starting: ${output}`);
  return server;
}
