/**
 * Request/reply over Node's IPC channel between the benchmark and the helper processes it
 * forks (receiver, graphile-worker baseline, limit script). Each helper runs in its own
 * process so that its CPU time is its own and it cannot slow the process that measures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface RequestMessage {
  requestId: number;
  type: string;
  body?: unknown;
}

type ReplyMessage = { requestId: number; ok: true; value: unknown } | { requestId: number; ok: false; error: string };

interface ReadyMessage {
  ready: true;
  value: unknown;
}

export interface HelperProcess<TReady = unknown> {
  readonly pid: number;
  /** What the helper sent when it became ready (for the receiver: its port). */
  readonly ready: TReady;
  request<T = unknown>(type: string, body?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks it to stop (if it handles 'stop'), then makes sure it is gone. */
  stop(): Promise<void>;
}

/** Every helper forked, so that an exit of the benchmark, however it happens, takes them along. */
const liveHelpers = new Set<ChildProcess>();

/** For an abrupt end (error, signal): no helper may outlive the benchmark. */
export function killAllHelpers(): void {
  for (const child of liveHelpers) child.kill('SIGKILL');
}
process.once('exit', killAllHelpers);

export async function forkHelper<TReady = unknown>(name: string, moduleUrl: URL, args: string[] = [], readyTimeoutMs = 30_000): Promise<HelperProcess<TReady>> {
  const child = fork(fileURLToPath(moduleUrl), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  liveHelpers.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => liveHelpers.delete(child));

  let nextRequestId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.once('exit', (code, signal) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${name} exited (${signal ?? `code ${code}`}) before answering`));
    pending.clear();
  });

  let announceReady: (value: TReady) => void = () => {};
  child.on('message', (message: ReadyMessage | ReplyMessage) => {
    if ('ready' in message) return announceReady(message.value as TReady);
    const waiting = pending.get(message.requestId);
    if (!waiting) return;
    pending.delete(message.requestId);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new Error(`${name}: ${message.error}`));
  });

  const ready = await new Promise<TReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    announceReady = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? `code ${code}`}) while starting`));
    });
  }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });

  const request = <T>(type: string, body?: unknown, timeoutMs = 120_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} is not running`));
      const requestId = nextRequestId++;
      const timer = setTimeout(() => {
        pending.delete(requestId);
        reject(new Error(`${name} did not answer "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(requestId, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ requestId, type, body } satisfies RequestMessage);
    });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await request('stop', undefined, 30_000).catch(() => undefined);
      if (child.connected) child.disconnect();
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killTimer);
    })());

  return { pid: child.pid!, ready, request, stop };
}

export type RequestHandlers = Record<string, (body: any) => unknown>;

/**
 * The helper's side: answers the parent's requests with `handlers`, tells it when it is
 * ready, and exits when the parent goes away (so no helper outlives a crashed benchmark).
 */
export function serveParent(handlers: RequestHandlers, readyValue: unknown = null): void {
  if (!process.send) throw new Error('this module runs as a helper process forked by the benchmark (npm run bench)');
  process.on('message', async (message: RequestMessage) => {
    const handler = handlers[message.type];
    let reply: ReplyMessage;
    try {
      if (!handler) throw new Error(`unknown request "${message.type}"`);
      reply = { requestId: message.requestId, ok: true, value: (await handler(message.body)) ?? null };
    } catch (error) {
      reply = { requestId: message.requestId, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    if (process.connected) process.send!(reply);
  });
  process.once('disconnect', () => process.exit(0));
  process.send({ ready: true, value: readyValue } satisfies ReadyMessage);
}
