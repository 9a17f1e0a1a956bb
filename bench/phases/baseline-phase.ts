/**
 * The baseline: the same deliveries, durably queued the way a user would without Hookline.
 * Each publish batch stores its events and enqueues one graphile-worker job per delivery in
 * one transaction (graphile_worker.add_jobs, its documented SQL API), with as many batches in
 * flight as Hookline's publishers had; the worker process runs the jobs.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { generateSecret } from '../../src/domain/signing.js';
import type { BaselineWorkerSettings, DeliverPayload } from '../baseline-worker.js';
import { benchEventChannel, benchEventData, benchEventType, type BenchWebhook, type EventEnvelope } from '../common.js';
import { forkHelper } from '../ipc.js';
import { BackgroundFailure, sendInBatches, waitForCount } from '../measure.js';
import { resourceColumns, ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { completionPoll, doneCount, openPool, publishingNote, receiverNote, receiverReport, resetReceiver, type PhaseContext } from './phase-context.js';

const schemaSql = `
create table bench_event (
  id uuid primary key,
  type text not null,
  channel text,
  data json not null,
  created_at timestamptz not null default now()
);
create table bench_attempt (
  id bigint generated always as identity primary key,
  job_id bigint not null,
  delivery_id uuid not null,
  response_status int,
  duration_ms int,
  success boolean not null,
  created_at timestamptz not null default now()
);
`;

const insertEventsSql = `
insert into bench_event (id, type, channel, data, created_at)
select id, type, channel, data, created_at
from json_to_recordset($1::json) as e(id uuid, type text, channel text, data json, created_at timestamptz)
`;

const addJobsSql = `
select count(*) from graphile_worker.add_jobs(
  array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))
`;

/** One publish batch: its events and their jobs, committed together. */
async function enqueueBatch(pool: pg.Pool, webhooks: readonly BenchWebhook[], first: number, count: number): Promise<void> {
  const publishedAt = Date.now();
  const createdAt = new Date(publishedAt).toISOString();
  const events: EventEnvelope[] = Array.from({ length: count }, (_, index) => ({
    id: uuidv7(),
    type: benchEventType,
    channel: benchEventChannel,
    createdAt,
    data: benchEventData(first + index, publishedAt),
  }));
  const jobs = events.flatMap((event) =>
    webhooks.map((_, webhook) => ({ identifier: 'deliver', payload: { deliveryId: uuidv7(), webhook, event } satisfies DeliverPayload })),
  );
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(insertEventsSql, [JSON.stringify(events.map((event) => ({ ...event, created_at: event.createdAt })))]);
    await client.query(addJobsSql, [JSON.stringify(jobs)]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function runBaselinePhase(context: PhaseContext): Promise<PhaseResult> {
  const { options } = context;
  const database = await context.server.createDatabase('baseline');
  const pool = openPool(database.url, options.publishersInFlight + 1);
  const worker = await forkHelper('baseline worker', context.build.module('bench/baseline-worker.js'));
  try {
    await pool.query(schemaSql);
    const webhooks: BenchWebhook[] = [1, 2].map((number) => ({ url: `${context.receiverUrl}/baseline/${number}`, secret: generateSecret() }));
    // Resolves once graphile-worker has installed its schema and its pool is listening.
    await worker.request('start', { databaseUrl: database.url, concurrency: options.concurrency, webhooks } satisfies BaselineWorkerSettings);
    const expected = options.events * webhooks.length;
    await resetReceiver(context);
    context.log(`baseline (graphile-worker): enqueueing ${expected} jobs for ${options.events} events`);

    const meter = new ResourceMeter(worker.pid, context.server.postmasterPid, 250);
    const startedAt = performance.now();
    const enqueueing = new BackgroundFailure();
    let allAcceptedAt = Number.NaN;
    void enqueueing.watch(
      sendInBatches(options.events, options.batchSize, options.publishersInFlight, (first, count) => enqueueBatch(pool, webhooks, first, count)).then(
        () => (allAcceptedAt = performance.now()),
      ),
    );
    const finishedAt = await waitForCount(doneCount(context, pool, 'select count(*) from bench_attempt where success', expected), expected, {
      what: 'baseline',
      ...completionPoll,
      check: enqueueing.check,
    });
    const reading = meter.stop();
    const report = await receiverReport(context);
    return {
      phase: 'baseline (graphile-worker)',
      count: expected,
      seconds: (finishedAt - startedAt) / 1000,
      ...resourceColumns(reading),
      latency: report.latency,
      notes: [publishingNote(options.events, (allAcceptedAt - startedAt) / 1000), ...receiverNote(report.requests, expected)],
    };
  } finally {
    await worker.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
