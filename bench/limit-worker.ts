/**
 * The limit: the same durable work as Hookline (claim due deliveries, build each event's
 * body, send it signed, record every attempt and the delivery's new state), done by the least
 * code this stack allows: raw SQL through `pg`, one claim statement per batch, one write
 * statement per ~100 outcomes, one `got` instance. No GraphQL, no ORM, no fairness, no
 * notifications, no stored request or response: what Hookline is measured against is this
 * floor of cost.
 *
 * The parent creates its tables and stores the events with their deliveries
 * (phases/limit-phase.ts), before or while this process works them off.
 */
import pg from 'pg';
import { createSenderClient, envelopeBody, Signer, type BenchWebhook, type SenderClient } from './common.js';
import { serveParent } from './ipc.js';

export interface LimitWorkerSettings {
  databaseUrl: string;
  concurrency: number;
  webhooks: BenchWebhook[];
}

const claimBatch = 200;
const recordBatch = 100;
// The last outcomes of a burst are written this soon, not held back waiting for a full batch.
const recordDelayMs = 5;
const idlePollMs = 50;

const claimSql = `
update limit_delivery d
set status = 'SENDING', attempt_count = d.attempt_count + 1, locked_until = now() + interval '1 minute'
where d.id in (
  select id from limit_delivery
  where status in ('PENDING', 'RETRYING') and next_attempt_at <= now()
  order by next_attempt_at
  limit $1
  for update skip locked)
returning d.id, d.webhook, d.attempt_count,
  (select json_build_object('id', e.id, 'type', e.type, 'channel', e.channel, 'createdAt', e.created_at, 'data', e.data)
   from limit_event e where e.id = d.event_id) as event
`;

const recordSql = `
with outcome as (
  select * from jsonb_to_recordset($1::jsonb)
    as o(delivery_id uuid, number int, response_status int, duration_ms int, error text, success boolean)
), inserted as (
  insert into limit_attempt (delivery_id, number, response_status, duration_ms, error, success)
  select delivery_id, number, response_status, duration_ms, error, success from outcome
)
update limit_delivery d
set status = case when o.success then 'SUCCEEDED' else 'RETRYING' end,
    next_attempt_at = case when o.success then null else now() + interval '10 seconds' end,
    locked_until = null
from outcome o
where d.id = o.delivery_id
`;

interface ClaimedDelivery {
  id: string;
  webhook: number;
  attempt_count: number;
  event: { id: string; type: string; channel: string | null; createdAt: string; data: Record<string, unknown> };
}

interface Outcome {
  delivery_id: string;
  number: number;
  response_status: number | null;
  duration_ms: number;
  error: string | null;
  success: boolean;
}

class LimitWorker {
  private readonly pool: pg.Pool;
  private readonly client: SenderClient;
  private readonly signers: Signer[];
  private readonly claimed: ClaimedDelivery[] = [];
  private inFlight = 0;
  private claiming = false;
  private stopping = false;
  private outcomes: Outcome[] = [];
  private recordTimer: NodeJS.Timeout | null = null;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly settings: LimitWorkerSettings) {
    this.pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 4 });
    // The benchmark drops the database WITH (FORCE) when interrupted; a cut idle connection is no crash.
    this.pool.on('error', () => undefined);
    this.client = createSenderClient(settings.concurrency);
    this.signers = settings.webhooks.map((webhook) => new Signer(webhook.secret));
  }

  start(): void {
    this.pump();
  }

  /** Starts sends while there is room, and claims the next batch before the one in hand runs out. */
  private pump(): void {
    while (this.inFlight < this.settings.concurrency && this.claimed.length > 0) void this.send(this.claimed.shift()!);
    if (!this.claiming && !this.stopping && this.claimed.length < this.settings.concurrency) void this.claim();
  }

  private async claim(): Promise<void> {
    this.claiming = true;
    let found = 0;
    try {
      const result = await this.pool.query<ClaimedDelivery>(claimSql, [claimBatch]);
      found = result.rows.length;
      this.claimed.push(...result.rows);
    } catch (error) {
      process.stderr.write(`[limit-worker] claim failed: ${error}\n`);
    } finally {
      this.claiming = false;
    }
    if (found > 0) this.pump();
    else setTimeout(() => this.pump(), idlePollMs);
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    this.inFlight++;
    const webhook = this.settings.webhooks[delivery.webhook]!;
    const body = envelopeBody(delivery.event);
    const headers = this.signers[delivery.webhook]!.headers(delivery.id, new Date(), body);
    const outcome = await this.client.post(webhook.url, headers, body);
    this.record({
      delivery_id: delivery.id,
      number: delivery.attempt_count,
      response_status: outcome.status,
      duration_ms: outcome.durationMs,
      error: outcome.error,
      success: outcome.success,
    });
    this.inFlight--;
    this.pump();
  }

  private record(outcome: Outcome): void {
    this.outcomes.push(outcome);
    if (this.outcomes.length >= recordBatch) this.writeOutcomes();
    else this.recordTimer ??= setTimeout(() => this.writeOutcomes(), recordDelayMs);
  }

  private writeOutcomes(): void {
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = null;
    const batch = this.outcomes;
    if (batch.length === 0) return;
    this.outcomes = [];
    const write: Promise<void> = this.pool
      .query(recordSql, [JSON.stringify(batch)])
      .then(
        () => undefined,
        (error) => void process.stderr.write(`[limit-worker] recording ${batch.length} outcomes failed: ${error}\n`),
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    while (this.inFlight > 0 || this.claiming) await new Promise((resolve) => setTimeout(resolve, 10));
    this.writeOutcomes();
    await Promise.all(this.writes);
    this.client.close();
    await this.pool.end();
  }
}

let worker: LimitWorker | null = null;
serveParent({
  start(settings: LimitWorkerSettings) {
    worker = new LimitWorker(settings);
    worker.start();
  },
  stop: () => worker?.stop(),
});
