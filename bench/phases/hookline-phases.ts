/**
 * Hookline's throughput and latency, through its public API only: webhooks made with
 * createWebhook, events published with publishEvents / publishEvent, completion read from
 * its database the way an operator would check it.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { benchEventChannel, benchEventData, benchEventType } from '../common.js';
import type { HooklineProcess } from '../hookline-process.js';
import { BackgroundFailure, sendAtRate, sendInBatches, waitForCount } from '../measure.js';
import { memory, resourceColumns, ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { completionPoll, countRows, doneCount, openPool, publishingNote, receiverNote, receiverReport, receiverRequestCount, resetReceiver, startHookline, type PhaseContext } from './phase-context.js';

export interface HooklineResults {
  throughput: PhaseResult;
  latency: PhaseResult;
  /** Hookline's VmHWM over both phases. */
  peakRssMb: number;
}

const createWebhookMutation = `mutation ($input: WebhookInput!) { createWebhook(input: $input) { id } }`;
const stopWebhookMutation = `mutation ($id: ID!) { stopWebhook(id: $id) { id } }`;
const publishEventsMutation = `mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;
const publishEventMutation = `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { id } }`;

async function createWebhook(hookline: HooklineProcess, name: string, url: string): Promise<string> {
  const data = await hookline.graphql<{ createWebhook: { id: string } }>(createWebhookMutation, { input: { name, url, eventTypes: ['message.*'] } });
  return data.createWebhook.id;
}

const eventInput = (sequence: number, publishedAt: number) => ({ type: benchEventType, channel: benchEventChannel, data: benchEventData(sequence, publishedAt) });

async function measureThroughput(context: PhaseContext, hookline: HooklineProcess, pool: pg.Pool): Promise<{ result: PhaseResult; webhookIds: string[] }> {
  const { options } = context;
  const webhookIds = [await createWebhook(hookline, 'bench-1', `${context.receiverUrl}/hookline/1`), await createWebhook(hookline, 'bench-2', `${context.receiverUrl}/hookline/2`)];
  const expected = options.events * webhookIds.length;
  await resetReceiver(context);
  context.log(`hookline throughput: publishing ${options.events} events to ${webhookIds.length} webhooks (${expected} deliveries)`);

  const meter = new ResourceMeter(hookline.pid, context.server.postmasterPid, 250);
  const startedAt = performance.now();
  const publishing = new BackgroundFailure();
  let allAcceptedAt = Number.NaN;
  void publishing.watch(
    sendInBatches(options.events, options.batchSize, options.publishersInFlight, async (first, count) => {
      const publishedAt = Date.now();
      const inputs = Array.from({ length: count }, (_, index) => eventInput(first + index, publishedAt));
      await hookline.graphql(publishEventsMutation, { inputs });
    }).then(() => (allAcceptedAt = performance.now())),
  );
  const finishedAt = await waitForCount(doneCount(context, pool, `select count(*) from delivery where status = 'SUCCEEDED'`, expected), expected, {
    what: 'hookline throughput',
    ...completionPoll,
    check: publishing.check,
  });
  const reading = meter.stop();

  // The attempt is written by the same statement that marks the delivery SUCCEEDED; check it.
  const attempts = await countRows(pool, 'select count(*) from attempt where success');
  if (attempts !== expected) throw new Error(`hookline throughput: ${expected} deliveries SUCCEEDED but ${attempts} successful attempts recorded`);
  const report = await receiverReport(context);
  return {
    webhookIds,
    result: {
      phase: 'hookline throughput',
      count: expected,
      seconds: (finishedAt - startedAt) / 1000,
      ...resourceColumns(reading),
      latency: report.latency,
      notes: [publishingNote(options.events, (allAcceptedAt - startedAt) / 1000), ...receiverNote(report.requests, expected)],
    },
  };
}

/**
 * Between the phases, as pgbench does before each run: VACUUM and a CHECKPOINT, so that the
 * latency phase starts from a clean database rather than from the cleanup after the burst.
 * Without it, the throughput phase's dead index entries and the autovacuum and checkpoint
 * they bring land in this phase's first seconds (the README gives the numbers both ways).
 */
async function settleDatabase(context: PhaseContext, pool: pg.Pool): Promise<void> {
  await pool.query('vacuum (analyze)');
  // CHECKPOINT needs a superuser (or pg_checkpoint): a DATABASE_URL user may have neither.
  await pool.query('checkpoint').catch((error) => context.log(`no CHECKPOINT before the latency phase: ${error instanceof Error ? error.message : error}`));
}

async function measureLatency(context: PhaseContext, hookline: HooklineProcess, pool: pg.Pool, previousWebhookIds: string[]): Promise<PhaseResult> {
  const { options } = context;
  // A fresh webhook set: one webhook, so every event is one delivery and one latency sample.
  // The throughput webhooks are stopped, not deleted: deleting one clears the webhook of each of
  // its 20,000 deliveries, a write of the whole table that would land in this phase's first seconds.
  for (const id of previousWebhookIds) await hookline.graphql(stopWebhookMutation, { id });
  await createWebhook(hookline, 'bench-latency', `${context.receiverUrl}/hookline/latency`);
  if (options.settle) await settleDatabase(context, pool);
  const total = options.rate * options.durationSeconds;
  const publishOne = async (sequence: number) => {
    await hookline.graphql(publishEventMutation, { input: eventInput(sequence, Date.now()) });
  };
  const warmupEvents = options.rate * options.warmupSeconds;
  if (warmupEvents > 0) {
    // Unmeasured: the first single-event publishes after the batch phase run cold code and
    // fill pools; a latency figure is about the steady state at this rate.
    context.log(`hookline latency: warming up at ${options.rate} events/s for ${options.warmupSeconds} s (not measured)`);
    await resetReceiver(context);
    await sendAtRate(warmupEvents, options.rate, publishOne);
    await waitForCount(() => receiverRequestCount(context), warmupEvents, { what: 'hookline latency warm-up', ...completionPoll, intervalMs: 20 });
  }
  await resetReceiver(context);
  context.log(`hookline latency: ${options.rate} events/s for ${options.durationSeconds} s, one publishEvent each`);

  const meter = new ResourceMeter(hookline.pid, context.server.postmasterPid, 250);
  const startedAt = performance.now();
  const { late } = await sendAtRate(total, options.rate, (sequence) => publishOne(warmupEvents + sequence));
  const allAcceptedAt = performance.now();
  const finishedAt = await waitForCount(() => receiverRequestCount(context), total, { what: 'hookline latency', ...completionPoll, stallTimeoutMs: 30_000 });
  const reading = meter.stop();
  const report = await receiverReport(context);
  return {
    phase: 'hookline latency',
    count: total,
    seconds: (finishedAt - startedAt) / 1000,
    ...resourceColumns(reading),
    latency: report.latency,
    notes: [
      publishingNote(total, (allAcceptedAt - startedAt) / 1000),
      ...(late > 0 ? [`${late} of ${total} publishes started more than 10 ms after their slot (the publisher had to wait for answers)`] : []),
      ...receiverNote(report.requests, total),
    ],
  };
}

export async function runHooklinePhases(context: PhaseContext): Promise<HooklineResults> {
  const database = await context.server.createDatabase('hookline');
  let hookline: HooklineProcess | null = null;
  const pool = openPool(database.url, 2);
  try {
    hookline = await startHookline(context, database);
    const throughput = await measureThroughput(context, hookline, pool);
    const latency = await measureLatency(context, hookline, pool, throughput.webhookIds);
    // VmHWM: the peak between samples too.
    const peakRssMb = Math.max(throughput.result.rssMb, latency.rssMb, memory(hookline.pid)?.peakRssMb ?? 0);
    return { throughput: throughput.result, latency, peakRssMb };
  } finally {
    await hookline?.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
