/**
 * The limit: the same deliveries worked off by the minimal script (limit-worker.ts).
 *
 * The row that counts stores the work as Hookline's publishing does, inside the clock: each
 * batch of events and its deliveries in one statement, as many batches in flight as Hookline's
 * publishers had, while the script already works. A second row, "drain only", has everything
 * stored before its clock starts: what sending and recording alone can reach.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { generateSecret } from '../../src/domain/signing.js';
import { benchEventChannel, benchEventData, benchEventType, type BenchWebhook } from '../common.js';
import { forkHelper } from '../ipc.js';
import type { LimitWorkerSettings } from '../limit-worker.js';
import { BackgroundFailure, sendInBatches, waitForCount } from '../measure.js';
import { resourceColumns, ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { completionPoll, doneCount, openPool, publishingNote, receiverNote, receiverReport, resetReceiver, type PhaseContext } from './phase-context.js';

const schemaSql = `
create table limit_event (
  id uuid primary key,
  type text not null,
  channel text,
  data json not null,
  created_at timestamptz not null
);
create table limit_delivery (
  id uuid primary key,
  event_id uuid not null references limit_event (id),
  webhook int not null,
  status text not null default 'PENDING',
  attempt_count int not null default 0,
  next_attempt_at timestamptz,
  locked_until timestamptz
);
create index limit_delivery_due_index on limit_delivery (next_attempt_at) where status in ('PENDING', 'RETRYING');
create table limit_attempt (
  id bigint generated always as identity primary key,
  delivery_id uuid not null,
  number int not null,
  response_status int,
  duration_ms int,
  error text,
  success boolean not null,
  created_at timestamptz not null default now()
);
`;

/** One batch of events and a delivery per event and webhook, in one statement. */
const storeSql = `
with stored_event as (
  insert into limit_event (id, type, channel, data, created_at)
  select id, type, channel, data, created_at
  from json_to_recordset($1::json) as e(id uuid, type text, channel text, data json, created_at timestamptz)
  returning id)
insert into limit_delivery (id, event_id, webhook, next_attempt_at)
select d.id, d.event_id, d.webhook, now()
from json_to_recordset($2::json) as d(id uuid, event_id uuid, webhook int)
join stored_event e on e.id = d.event_id
`;

async function storeBatch(pool: pg.Pool, webhooks: number, first: number, count: number): Promise<void> {
  const publishedAt = Date.now();
  const createdAt = new Date(publishedAt).toISOString();
  const events = Array.from({ length: count }, (_, index) => ({
    id: uuidv7(),
    type: benchEventType,
    channel: benchEventChannel,
    data: benchEventData(first + index, publishedAt),
    created_at: createdAt,
  }));
  const deliveries = events.flatMap((event) => Array.from({ length: webhooks }, (_, webhook) => ({ id: uuidv7(), event_id: event.id, webhook })));
  await pool.query(storeSql, [JSON.stringify(events), JSON.stringify(deliveries)]);
}

type LimitMode = 'stored while sending' | 'drain only';

export async function runLimitPhase(context: PhaseContext, mode: LimitMode): Promise<PhaseResult> {
  const { options } = context;
  const database = await context.server.createDatabase('limit');
  const pool = openPool(database.url, options.publishersInFlight + 1);
  const worker = await forkHelper('limit worker', context.build.module('bench/limit-worker.js'));
  try {
    await pool.query(schemaSql);
    const webhooks: BenchWebhook[] = [1, 2].map((number) => ({ url: `${context.receiverUrl}/limit/${number}`, secret: generateSecret() }));
    const expected = options.events * webhooks.length;
    const store = () => sendInBatches(options.events, options.batchSize, options.publishersInFlight, (first, count) => storeBatch(pool, webhooks.length, first, count));
    if (mode === 'drain only') {
      context.log(`limit script (drain only): storing ${expected} due deliveries before the clock starts`);
      await store();
      // Freshly bulk-loaded: give the planner its statistics, as autovacuum would shortly.
      await pool.query('analyze limit_event, limit_delivery');
    }
    await resetReceiver(context);
    context.log(`limit script (${mode}): ${expected} deliveries`);

    const meter = new ResourceMeter(worker.pid, context.server.postmasterPid, 250);
    const startedAt = performance.now();
    await worker.request('start', { databaseUrl: database.url, concurrency: options.concurrency, webhooks } satisfies LimitWorkerSettings);
    const storing = new BackgroundFailure();
    let allStoredAt = Number.NaN;
    if (mode === 'stored while sending') void storing.watch(store().then(() => (allStoredAt = performance.now())));
    const finishedAt = await waitForCount(doneCount(context, pool, 'select count(*) from limit_attempt where success', expected), expected, {
      what: `limit script (${mode})`,
      ...completionPoll,
      check: storing.check,
    });
    const reading = meter.stop();
    const report = await receiverReport(context);
    return {
      phase: mode === 'drain only' ? 'limit, drain only' : 'limit (raw SQL script)',
      count: expected,
      seconds: (finishedAt - startedAt) / 1000,
      ...resourceColumns(reading),
      // The script does not measure publish-to-receiver time.
      latency: null,
      notes: [...(mode === 'stored while sending' ? [publishingNote(options.events, (allStoredAt - startedAt) / 1000)] : []), ...receiverNote(report.requests, expected)],
    };
  } finally {
    await worker.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
