/**
 * Hookline under test: the real service (`node dist/src/main.js`) in its own process, as
 * it is deployed, reached only through its GraphQL API on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { findFreePort } from './database-server.js';

export interface HooklineProcess {
  pid: number;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** SIGTERM (graceful: in-flight attempts finish), SIGKILL if it takes too long. */
  stop(): Promise<void>;
}

const startTimeoutMs = 60_000;
const stopTimeoutMs = 20_000;
// Hookline logs at warn; a phase gone wrong could print one line per delivery.
const maximumRelayedLines = 40;

const running = new Set<ChildProcess>();

/** For an abrupt end (error, signal): no Hookline may outlive the benchmark. */
export function killAllHooklineProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.once('exit', killAllHooklineProcesses);

/**
 * Passes Hookline's log lines (JSON) and errors on to stderr, prefixed, up to a limit. Other
 * standard output is left out: on a first start it is the banner with the new API key.
 */
function relayOutput(child: ChildProcess): void {
  let relayed = 0;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (stream === child.stdout && !line.startsWith('{')) return;
      relayed++;
      if (relayed <= maximumRelayedLines) process.stderr.write(`[hookline] ${line}\n`);
      else if (relayed === maximumRelayedLines + 1) process.stderr.write('[hookline] (further log lines not shown)\n');
    });
  }
}

export interface HooklineStart {
  /** dist/src/main.js, from the run's build snapshot. */
  mainModule: URL;
  databaseUrl: string;
  /** Its own, empty: Hookline writes the first API key of a fresh database there. */
  dataDir: string;
  /** Write a V8 CPU profile there when it exits. */
  profileDir: string | null;
}

/**
 * On its first start on a database, Hookline creates the project "default" and writes its
 * API key to <dataDir>/api-key; requests then carry it as a bearer token. No file (a
 * database that already had a project, or a Hookline without API keys): no header.
 */
async function readApiKey(dataDir: string): Promise<Record<string, string>> {
  const key = await readFile(path.join(dataDir, 'api-key'), 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  return key ? { authorization: `Bearer ${key}` } : {};
}

export async function startHooklineProcess({ mainModule, databaseUrl, dataDir, profileDir }: HooklineStart): Promise<HooklineProcess> {
  const port = await findFreePort();
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profiling, fileURLToPath(mainModule)], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      HOOKLINE_DATA_DIR: dataDir,
      // The receiver is on loopback, which Hookline's address policy refuses unless allowed.
      HOOKLINE_ALLOW_PRIVATE_NETWORKS: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  relayOutput(child);

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Hookline exited while starting (${child.signalCode ?? `code ${child.exitCode}`})`);
    const healthy = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Hookline did not become healthy within ${startTimeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const headers = { 'content-type': 'application/json', ...(await readApiKey(dataDir)) };
  // The publisher shares the machine with what it measures: node:http on kept-alive sockets
  // costs it about a fifth of the CPU per call that fetch does.
  // A socket idle for 4 s is dropped: Hookline's server closes idle ones after 5 s (Node's
  // default), and a request sent on a socket it is closing fails with ECONNRESET.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });
  let stopping: Promise<void> | null = null;
  return {
    pid: child.pid!,
    async graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const { status, body } = await postJson(agent, port, '/graphql', headers, JSON.stringify({ query, variables }));
      let answer: { data?: T; errors?: { message: string }[] };
      try {
        answer = JSON.parse(body);
      } catch {
        throw new Error(`GraphQL error: HTTP ${status}, not JSON: ${body.slice(0, 200)}`);
      }
      if (answer.errors?.length || !answer.data) throw new Error(`GraphQL error: ${answer.errors?.map((error) => error.message).join('; ') ?? `HTTP ${status}`}`);
      return answer.data;
    },
    stop: () =>
      (stopping ??= (async () => {
        agent.destroy();
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
        await exited;
        clearTimeout(killTimer);
      })()),
  };
}

function postJson(agent: http.Agent, port: number, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
