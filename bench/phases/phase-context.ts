/** What every phase is given, and the small helpers they all use. */
import path from 'node:path';
import pg from 'pg';
import type { BuildSnapshot } from '../build-snapshot.js';
import type { BenchDatabase, DatabaseServer } from '../database-server.js';
import { startHooklineProcess, type HooklineProcess } from '../hookline-process.js';
import type { HelperProcess } from '../ipc.js';
import type { BenchOptions } from '../options.js';
import type { ReceiverReport } from '../receiver.js';

export interface PhaseContext {
  options: BenchOptions;
  server: DatabaseServer;
  receiver: HelperProcess<{ port: number }>;
  /** http://127.0.0.1:<port>; each phase appends its own path, for telling requests apart in logs. */
  receiverUrl: string;
  /** A temporary directory of this run. */
  workDir: string;
  /** Where the processes this run starts load their code from. */
  build: BuildSnapshot;
  /** Progress, on stderr. */
  log(message: string): void;
}

/**
 * A pool for the benchmark's own queries. An idle connection can be cut (the database is
 * dropped WITH (FORCE) on an interrupted run): that must not crash the benchmark mid-teardown.
 */
export function openPool(databaseUrl: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Hookline on a phase's database, with a data directory of its own (where it leaves its first API key). */
export function startHookline(context: PhaseContext, database: BenchDatabase): Promise<HooklineProcess> {
  return startHooklineProcess({
    mainModule: context.build.module('src/main.js'),
    databaseUrl: database.url,
    dataDir: path.join(context.workDir, database.name),
    profileDir: context.options.profileDir,
  });
}

export async function countRows(pool: pg.Pool, sql: string): Promise<number> {
  const result = await pool.query<{ count: string }>(sql);
  return Number(result.rows[0]!.count);
}

export const resetReceiver = (context: PhaseContext) => context.receiver.request('reset');
export const receiverReport = (context: PhaseContext) => context.receiver.request<ReceiverReport>('report');
export const receiverRequestCount = (context: PhaseContext) => context.receiver.request<number>('count');

/**
 * How many deliveries of a throughput phase are done, for waitForCount: the receiver's count
 * until it has seen every request (none can be recorded before it was sent), then the database
 * count that decides. Counting a large table ten times a second costs the database CPU that the
 * work under test would otherwise get, unevenly between phases whose tables differ in width.
 */
export function doneCount(context: PhaseContext, pool: pg.Pool, countSql: string, expected: number): () => Promise<number> {
  return async () => {
    const sent = await receiverRequestCount(context);
    return sent < expected ? Math.min(sent, expected - 1) : countRows(pool, countSql);
  };
}

/** Completion polls: every 100 ms, as a dashboard would; a phase that stops moving for a minute has failed. */
export const completionPoll = { intervalMs: 100, stallTimeoutMs: 60_000 };

/** Whether publishing (or enqueueing) or sending was the bottleneck shows in how soon the last publish returned. */
export const publishingNote = (events: number, seconds: number) => `all ${events} events accepted after ${seconds.toFixed(1)} s (${(events / seconds).toFixed(0)} events/s)`;

/** More requests than deliveries means some were sent twice (or retried after a failure answer). */
export const receiverNote = (requests: number, deliveries: number) => (requests === deliveries ? [] : [`the receiver got ${requests} requests for ${deliveries} deliveries`]);
