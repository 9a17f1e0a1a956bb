/**
 * The backlog: a large number of due deliveries already in Hookline's database when it
 * starts (as after an outage of the receiver, or a restart under load). Shows the drain
 * rate and whether memory stays flat while it works through them.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateApiKey } from '../../src/domain/api-keys.js';
import { generateSecret } from '../../src/domain/signing.js';
import { createLogger } from '../../src/logger.js';
import { migrate } from '../../src/persistence/database.js';
import { newUuidV7Sql, uuidTimeSql } from '../../src/persistence/sql/uuid-time.js';
import { benchEventChannel, benchEventType } from '../common.js';
import type { HooklineProcess } from '../hookline-process.js';
import { median, waitForCount } from '../measure.js';
import { resourceColumns, ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { countRows, openPool, startHookline, type PhaseContext } from './phase-context.js';

export interface QueryTiming {
  query: string;
  runs: number;
  p50Ms: number;
  p95Ms: number;
}

export interface BacklogResult {
  result: PhaseResult;
  /** The deliveries and attempts queries, once the backlog is drained (a million of each by default). */
  queries: QueryTiming[];
  rssFirstQuarterMedianMb: number;
  rssLastQuarterMedianMb: number;
  rssSamples: number;
  peakRssMb: number;
}

const insertChunk = 100_000;

/** Events and their deliveries, PENDING and due now, straight into Hookline's tables. */
async function insertBacklog(pool: pg.Pool, total: number, projectId: string, webhookId: string, log: (message: string) => void): Promise<void> {
  for (let first = 1; first <= total; first += insertChunk) {
    const last = Math.min(total, first + insertChunk - 1);
    await pool.query(
      `with inserted_event as (
         insert into event (id, project_id, type, channel, data, created_at)
         select ${newUuidV7Sql}, $1, $2, $3, json_build_object('messageId', 'm-' || i, 'status', 'delivered', 'to', '+15550100'), now()
         from generate_series($4::int, $5::int) as i
         returning id),
       new_delivery as (select ${newUuidV7Sql} as id, id as event_id from inserted_event)
       -- As Hookline stores them: ids are UUIDv7, and a delivery's created_at is the time in its id.
       insert into delivery (id, project_id, event_id, webhook_id, event_type, status, next_attempt_at, created_at, updated_at)
       select id, $1, event_id, $6, $2, 'PENDING', now(), ${uuidTimeSql('id')}, now() from new_delivery`,
      [projectId, benchEventType, benchEventChannel, first, last, webhookId],
    );
    log(`backlog: inserted ${last} of ${total} deliveries`);
  }
  // Bulk-loaded: the planner gets its statistics now, as autovacuum would within a minute.
  await pool.query('analyze event, delivery');
}

/** Deliveries not yet done; counted through the partial indexes that shrink as the backlog drains. */
const openDeliveriesSql = `
select (select count(*) from delivery where status in ('PENDING', 'RETRYING'))
     + (select count(*) from delivery where status = 'SENDING') as count`;

const queryRuns = 100;

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
}

/**
 * The queries a dashboard makes, timed over GraphQL (HTTP included) against the drained
 * backlog: filtered, paginated deliveries (a page, then the pages after it), a time range,
 * and attempts of a webhook.
 */
async function timeQueries(hookline: HooklineProcess, webhookId: string, inserted: { from: number; to: number }, log: (message: string) => void): Promise<QueryTiming[]> {
  const pageQuery = `query ($filter: DeliveryFilter, $after: String) {
    deliveries(filter: $filter, first: 50, after: $after) { nodes { id status attemptCount createdAt } pageInfo { endCursor hasNextPage } } }`;
  const attemptsQuery = `query ($webhookId: ID!, $after: String) {
    deliveryAttempts(filter: { webhookId: $webhookId, success: true }, first: 50, after: $after) { nodes { id number responseStatus durationMs } pageInfo { endCursor } } }`;
  type Page = { deliveries: { pageInfo: { endCursor: string | null } } };
  const cases: { query: string; run: (cursor: string | null) => Promise<string | null> }[] = [
    {
      query: 'deliveries(filter: {webhookId, status: SUCCEEDED}, first: 50), paging on',
      run: async (cursor) => (await hookline.graphql<Page>(pageQuery, { filter: { webhookId, status: 'SUCCEEDED' }, after: cursor })).deliveries.pageInfo.endCursor,
    },
    {
      query: 'deliveries(filter: {eventType, statuses: [SUCCEEDED, FAILED]}, first: 50), paging on',
      run: async (cursor) =>
        (await hookline.graphql<Page>(pageQuery, { filter: { eventType: benchEventType, statuses: ['SUCCEEDED', 'FAILED'] }, after: cursor })).deliveries.pageInfo.endCursor,
    },
    {
      query: 'deliveries(filter: {createdAfter, createdBefore} (a one-second window of the backlog), first: 50)',
      run: async () => {
        const start = new Date(inserted.from + Math.random() * Math.max(0, inserted.to - inserted.from - 1000));
        await hookline.graphql(pageQuery, { filter: { createdAfter: start.toISOString(), createdBefore: new Date(start.getTime() + 1000).toISOString() } });
        return null;
      },
    },
    {
      query: 'deliveryAttempts(filter: {webhookId, success: true}, first: 50), paging on',
      run: async (cursor) =>
        (await hookline.graphql<{ deliveryAttempts: { pageInfo: { endCursor: string | null } } }>(attemptsQuery, { webhookId, after: cursor })).deliveryAttempts.pageInfo.endCursor,
    },
  ];
  const timings: QueryTiming[] = [];
  for (const { query, run } of cases) {
    const durations: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < queryRuns; i++) {
      const startedAt = performance.now();
      cursor = await run(cursor);
      durations.push(performance.now() - startedAt);
    }
    durations.sort((a, b) => a - b);
    timings.push({ query, runs: queryRuns, p50Ms: percentile(durations, 0.5), p95Ms: percentile(durations, 0.95) });
    log(`backlog: ${query}: p50 ${percentile(durations, 0.5).toFixed(1)} ms, p95 ${percentile(durations, 0.95).toFixed(1)} ms`);
  }
  return timings;
}

export async function runBacklogPhase(context: PhaseContext, total: number): Promise<BacklogResult> {
  const database = await context.server.createDatabase('backlog');
  const pool = openPool(database.url, 2);
  let hookline: HooklineProcess | null = null;
  try {
    // Hookline's own migrations, so the tables exist before it starts.
    await migrate(database.url, createLogger('warn'));
    const { rows } = await pool.query<{ project_id: string; webhook_id: string }>(
      `with project as (insert into project (id, name) values (gen_random_uuid(), 'bench-backlog') returning id)
       insert into webhook (id, project_id, name, url, event_types, secret)
       select gen_random_uuid(), project.id, 'bench-backlog', $1, '{*}', $2 from project
       returning project_id, id as webhook_id`,
      [`${context.receiverUrl}/backlog`, generateSecret()],
    );
    // A key for the queries at the end, where Hookline looks for its first key (it makes none:
    // the project exists already).
    const apiKey = generateApiKey();
    await pool.query(`insert into api_key (id, project_id, name, prefix, key_hash) values (gen_random_uuid(), $1, 'bench', $2, $3)`, [
      rows[0]!.project_id,
      apiKey.prefix,
      apiKey.hash,
    ]);
    await mkdir(path.join(context.workDir, database.name), { recursive: true });
    await writeFile(path.join(context.workDir, database.name, 'api-key'), apiKey.key);
    context.log(`backlog: inserting ${total} due deliveries`);
    const inserted = { from: Date.now(), to: 0 };
    await insertBacklog(pool, total, rows[0]!.project_id, rows[0]!.webhook_id, context.log);
    inserted.to = Date.now();

    hookline = await startHookline(context, database);
    // Measured from the moment Hookline answers health checks: what it drains from then on.
    const startedAt = performance.now();
    const openAtStart = await countRows(pool, openDeliveriesSql);
    const meter = new ResourceMeter(hookline.pid, context.server.postmasterPid, 1000);
    let lastLogged = 0;
    const finishedAt = await waitForCount(async () => openAtStart - (await countRows(pool, openDeliveriesSql)), openAtStart, {
      what: 'backlog drain',
      // Every second: counting a million-row backlog every 100 ms would itself load the database.
      intervalMs: 1000,
      stallTimeoutMs: 60_000,
      onCount: (drained) => {
        if (performance.now() - lastLogged > 10_000) {
          lastLogged = performance.now();
          context.log(`backlog: ${drained} of ${openAtStart} drained`);
        }
      },
    });
    const reading = meter.stop();

    const succeeded = await countRows(pool, `select count(*) from delivery where status = 'SUCCEEDED'`);
    const attempts = await countRows(pool, 'select count(*) from attempt where success');
    if (succeeded !== total || attempts !== total) throw new Error(`backlog: ${total} deliveries, but ${succeeded} SUCCEEDED and ${attempts} successful attempts`);

    const queries = await timeQueries(hookline, rows[0]!.webhook_id, inserted, context.log);

    const samples = reading.rssSamplesMb;
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    return {
      result: {
        phase: 'hookline backlog drain',
        count: openAtStart,
        seconds: (finishedAt - startedAt) / 1000,
        ...resourceColumns(reading),
        latency: null,
      },
      queries,
      rssFirstQuarterMedianMb: median(samples.slice(0, quarter)),
      rssLastQuarterMedianMb: median(samples.slice(-quarter)),
      rssSamples: samples.length,
      peakRssMb: reading.peakRssMb,
    };
  } finally {
    await hookline?.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
