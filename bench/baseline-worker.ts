/**
 * The baseline: what a user would build without Hookline. A graphile-worker job per
 * delivery; its task builds the envelope, signs it, POSTs it with one shared `got` client
 * and records an attempt row. A failed send throws, so graphile-worker's own retries apply.
 *
 * The parent creates the tables and enqueues the jobs (phases/baseline-phase.ts); this
 * process only runs the worker pool, with graphile-worker's defaults except where noted.
 */
import { Logger, run, type JobHelpers, type Runner } from 'graphile-worker';
import { createSenderClient, envelopeBody, Signer, type BenchWebhook, type EventEnvelope } from './common.js';
import { serveParent } from './ipc.js';

export interface BaselineWorkerSettings {
  databaseUrl: string;
  concurrency: number;
  webhooks: BenchWebhook[];
}

/** One job: a delivery of an event to a webhook. The event travels inline, as users commonly do. */
export interface DeliverPayload {
  deliveryId: string;
  webhook: number;
  event: EventEnvelope;
}

// Errors and warnings only: graphile-worker logs every completed job at info, which at
// thousands of jobs a second would measure the console, not the queue.
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[graphile-worker] ${message}\n`);
});

let runner: Runner | null = null;
let closeClient = () => {};

async function start(settings: BaselineWorkerSettings): Promise<void> {
  const client = createSenderClient(settings.concurrency);
  closeClient = () => client.close();
  const signers = settings.webhooks.map((webhook) => new Signer(webhook.secret));

  const deliver = async (payload: unknown, helpers: JobHelpers): Promise<void> => {
    const { deliveryId, webhook, event } = payload as DeliverPayload;
    const body = envelopeBody(event);
    const outcome = await client.post(settings.webhooks[webhook]!.url, signers[webhook]!.headers(deliveryId, new Date(), body), body);
    await helpers.query('insert into bench_attempt (job_id, delivery_id, response_status, duration_ms, success) values ($1, $2, $3, $4, $5)', [
      helpers.job.id,
      deliveryId,
      outcome.status,
      outcome.durationMs,
      outcome.success,
    ]);
    if (!outcome.success) throw new Error(outcome.error ?? 'the delivery failed');
  };

  runner = await run({
    connectionString: settings.databaseUrl,
    concurrency: settings.concurrency,
    // graphile-worker warns when its pool is smaller than its concurrency; a user would follow that advice.
    maxPoolSize: settings.concurrency,
    noHandleSignals: true,
    logger: quietLogger,
    taskList: { deliver },
  });
}

serveParent({
  start,
  async stop() {
    await runner?.stop();
    closeClient();
  },
});
