/**
 * The limit: the same deliveries, already due in a table, worked off by the minimal script
 * (limit-worker.ts). The table is filled before the clock starts, so the figure is what this
 * stack can send and record at best, with publishing not counted.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { generateSecret } from '../../src/domain/signing.js';
import { benchEventChannel, benchEventData, benchEventType, envelopeBody, type BenchWebhook } from '../common.js';
import { forkHelper } from '../ipc.js';
import type { LimitWorkerSettings } from '../limit-worker.js';
import { waitForCount } from '../measure.js';
import { ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { completionPoll, countRows, openPool, receiverNote, receiverReport, resetReceiver, type PhaseContext } from './phase-context.js';

const schemaSql = `
create table limit_delivery (
  id uuid primary key,
  webhook int not null,
  -- The request body: the event's envelope, as Hookline would send it.
  payload text not null,
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

const fillBatch = 1000;

async function fillDeliveries(pool: pg.Pool, events: number, webhooks: readonly BenchWebhook[]): Promise<void> {
  for (let first = 0; first < events; first += fillBatch) {
    const publishedAt = Date.now();
    const createdAt = new Date(publishedAt).toISOString();
    const rows = [];
    for (let sequence = first; sequence < Math.min(events, first + fillBatch); sequence++) {
      const payload = envelopeBody({ id: uuidv7(), type: benchEventType, channel: benchEventChannel, createdAt, data: benchEventData(sequence, publishedAt) });
      for (let webhook = 0; webhook < webhooks.length; webhook++) rows.push({ id: uuidv7(), webhook, payload });
    }
    await pool.query(
      `insert into limit_delivery (id, webhook, payload, next_attempt_at)
       select id, webhook, payload, now() from json_to_recordset($1::json) as d(id uuid, webhook int, payload text)`,
      [JSON.stringify(rows)],
    );
  }
  // Freshly bulk-loaded: give the planner its statistics, as autovacuum would shortly.
  await pool.query('analyze limit_delivery');
}

export async function runLimitPhase(context: PhaseContext): Promise<PhaseResult> {
  const { options } = context;
  const database = await context.server.createDatabase('limit');
  const pool = openPool(database.url, 2);
  const worker = await forkHelper('limit worker', context.build.module('bench/limit-worker.js'));
  try {
    await pool.query(schemaSql);
    const webhooks: BenchWebhook[] = [1, 2].map((number) => ({ url: `${context.receiverUrl}/limit/${number}`, secret: generateSecret() }));
    const expected = options.events * webhooks.length;
    context.log(`limit script: filling ${expected} due deliveries`);
    await fillDeliveries(pool, options.events, webhooks);
    await resetReceiver(context);
    context.log(`limit script: draining ${expected} deliveries`);

    const meter = new ResourceMeter(worker.pid, context.server.postmasterPid, 250);
    const startedAt = performance.now();
    await worker.request('start', { databaseUrl: database.url, concurrency: options.concurrency, webhooks } satisfies LimitWorkerSettings);
    const finishedAt = await waitForCount(() => countRows(pool, 'select count(*) from limit_attempt where success'), expected, { what: 'limit script', ...completionPoll });
    const reading = meter.stop();
    const report = await receiverReport(context);
    return {
      phase: 'limit (raw SQL script)',
      count: expected,
      seconds: (finishedAt - startedAt) / 1000,
      cpuMs: reading.cpuMs,
      postgresCpuMs: reading.postgresCpuMs,
      rssMb: reading.maximumRssMb,
      // Its deliveries were all queued before the clock started: their waiting time says nothing.
      latency: null,
      notes: receiverNote(report.requests, expected),
    };
  } finally {
    await worker.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
