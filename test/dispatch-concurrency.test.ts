/**
 * Dispatching under concurrency, crashes and shutdown: several dispatchers on one database,
 * claims left behind by dead processes, graceful stops, and a slow webhook next to a fast one.
 * Each test works on its own database, so no dispatcher of one test can take another's work.
 */
import { describe, expect, test } from '@jest/globals';
import { startServerProcess as startServer, type ServerProcess } from './support/server-process.js';
import type { TestDatabase } from './support/database.js';
import { createWebhook, graphqlData, publishEvent } from './support/graphql.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';
import { releaseExpiredLeases } from '../src/persistence/sql/hand-back-deliveries.js';
import { recordAttemptOutcomes } from '../src/persistence/sql/record-attempt-outcomes.js';
import { claimDueDeliveries } from '../src/persistence/sql/claim-due-deliveries.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import { AddressPolicy } from '../src/delivery/address-policy.js';
import { createHttpSender } from '../src/delivery/http-sender.js';
import { createLogger } from '../src/logger.js';
import { newId } from '../src/domain/ids.js';

// ---------------------------------------------------------------------------------------------
// Resources: everything a test starts is released after it, whatever happened.

const resources = trackTestResources('each');
const { newDatabase, newReceiver, newApp } = resources;

function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  return startServer(databaseUrl, resources.onCleanup);
}

async function waitForExit(server: ServerProcess, timeoutMs = 20_000) {
  try {
    await waitFor(() => server.hasExited(), { timeoutMs, description: 'the server process to exit' });
  } catch (error) {
    throw new Error(`${String(error)}; its output: ${server.output()}`);
  }
  return server.exited;
}

// ---------------------------------------------------------------------------------------------
// Reading what was stored.

interface DeliveryRow {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  locked_by: string | null;
  locked_until: Date | null;
  webhook_id: string | null;
}

async function deliveryRows(database: TestDatabase, webhookId?: string): Promise<DeliveryRow[]> {
  const result = await database.pool.query(
    `select id, status, attempt_count, next_attempt_at, locked_by, locked_until, webhook_id
     from delivery where $1::uuid is null or webhook_id = $1::uuid order by id`,
    [webhookId ?? null],
  );
  return result.rows;
}

async function onlyDelivery(database: TestDatabase): Promise<DeliveryRow> {
  const rows = await deliveryRows(database);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function attemptRows(database: TestDatabase, deliveryId: string) {
  const result = await database.pool.query('select number, response_status, success, error from attempt where delivery_id = $1 order by number', [deliveryId]);
  return result.rows as { number: number; response_status: number | null; success: boolean; error: string | null }[];
}

async function countWithStatus(database: TestDatabase, status: string, webhookId?: string): Promise<number> {
  return (await deliveryRows(database, webhookId)).filter((row) => row.status === status).length;
}

async function waitForStatus(database: TestDatabase, status: string, count: number, options: { webhookId?: string; timeoutMs?: number } = {}): Promise<void> {
  await waitFor(async () => (await countWithStatus(database, status, options.webhookId)) === count, {
    timeoutMs: options.timeoutMs ?? 15_000,
    intervalMs: 50,
    description: `${count} ${status} deliveries${options.webhookId ? ` of webhook ${options.webhookId}` : ''}`,
  });
}

const publishEventsMutation = `mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

async function publishEvents(url: string, inputs: Record<string, unknown>[]): Promise<{ id: string }[]> {
  return (await graphqlData(url, publishEventsMutation, { inputs })).publishEvents;
}

const webhookIdOf = (request: { headers: Record<string, unknown> }) => request.headers['webhook-id'] as string;

// ---------------------------------------------------------------------------------------------

describe('one dispatcher under a backlog', () => {
  test('a backlog far beyond the concurrency limits drains by itself: freed slots claim again, with no tick', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    // No scheduler: nothing but the publish's wake-up and the dispatcher's own claims moves the backlog.
    const app = await newApp({ databaseUrl: database.url, withoutScheduler: true, dispatcher: { concurrency: 6, perWebhookConcurrency: 4 } });
    const first = await createWebhook(app.url, { url: `${receiver.url}/first`, eventTypes: ['backlog.first'] });
    const second = await createWebhook(app.url, { url: `${receiver.url}/second`, eventTypes: ['backlog.second'] });

    await publishEvents(app.url, Array.from({ length: 100 }, (_, n) => ({ type: 'backlog.first', data: { n } })));
    await publishEvents(app.url, Array.from({ length: 100 }, (_, n) => ({ type: 'backlog.second', data: { n } })));

    await waitForStatus(database, 'SUCCEEDED', 100, { webhookId: first.id });
    await waitForStatus(database, 'SUCCEEDED', 100, { webhookId: second.id });
    expect(receiver.requests).toHaveLength(200);
  }, 40_000);

  test('a backlog held back by attempt records that cannot be written yet goes on once they are written, with no tick', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    const app = await newApp({ databaseUrl: database.url, withoutScheduler: true, dispatcher: { concurrency: 6, perWebhookConcurrency: 6 } });
    const webhook = await createWebhook(app.url, { url: `${receiver.url}/held`, eventTypes: ['backlog.held'] });

    // Attempt records wait on this lock: sends go on until twice the concurrency is claimed and unrecorded.
    const blocker = await database.pool.connect();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await blocker.query('commit');
      blocker.release();
    };
    resources.onCleanup(release);
    await blocker.query('begin');
    await blocker.query('lock table attempt in share mode');

    await publishEvents(app.url, Array.from({ length: 30 }, (_, n) => ({ type: 'backlog.held', data: { n } })));
    await waitFor(() => receiver.requests.length === 12, { description: '12 requests, then no room to claim more' });
    await release();

    await waitForStatus(database, 'SUCCEEDED', 30, { webhookId: webhook.id });
    expect(receiver.requests).toHaveLength(30);
  }, 40_000);
});

describe('two dispatchers on one database', () => {
  test('never send one delivery twice: 300 events are each delivered exactly once, with one attempt each', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    receiver.setScript(() => ({ status: 200, delayMs: Math.floor(Math.random() * 21) }));
    const first = await newApp({ databaseUrl: database.url, workerId: 'worker-a' });
    const second = await newApp({ databaseUrl: database.url, workerId: 'worker-b' });
    await createWebhook(first.url, { url: `${receiver.url}/hook`, retryScheduleSeconds: [1, 1] });

    const published: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const inputs = Array.from({ length: 100 }, (_, index) => ({ type: 'message.status', channel: 'sms', data: { n: batch * 100 + index } }));
      // Publish through both processes: either one's commit wakes both dispatchers.
      const events = await publishEvents((batch % 2 === 0 ? first : second).url, inputs);
      published.push(...events.map((event) => event.id));
    }

    await waitForStatus(database, 'SUCCEEDED', 300, { timeoutMs: 45_000 });
    // Anything still in flight (a duplicate would be) lands before we count.
    await Promise.all([first.dispatcher.whenIdle(), second.dispatcher.whenIdle()]);

    expect(receiver.requests.length).toBe(300);
    const webhookIds = receiver.requests.map(webhookIdOf);
    expect(new Set(webhookIds).size).toBe(300);
    const deliveries = await deliveryRows(database);
    expect([...webhookIds].sort()).toEqual(deliveries.map((row) => row.id).sort());
    const eventIds = receiver.requests.map((request) => JSON.parse(request.body).id as string);
    expect(eventIds.sort()).toEqual([...published].sort());

    expect(deliveries.every((row) => row.status === 'SUCCEEDED' && row.attempt_count === 1 && row.locked_by === null)).toBe(true);
    const attempts = await database.pool.query('select delivery_id, count(*)::int as attempts from attempt group by delivery_id');
    expect(attempts.rows.length).toBe(300);
    expect(attempts.rows.every((row) => row.attempts === 1)).toBe(true);
  }, 60_000);
});

describe('the lease sweep', () => {
  test('hands back a lease that ran out and leaves a valid one alone', async () => {
    const database = await newDatabase();
    const api = await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    await createWebhook(api.url, { url: 'http://127.0.0.1:9/never-called' });
    await publishEvents(api.url, [
      { type: 'message.status', data: { n: 1 } },
      { type: 'message.status', data: { n: 2 } },
    ]);
    const [expired, valid] = await deliveryRows(database);
    await database.pool.query(`update delivery set status = 'SENDING', locked_by = 'dead-worker', locked_until = now() - interval '1 second' where id = $1`, [expired!.id]);
    await database.pool.query(`update delivery set status = 'SENDING', locked_by = 'live-worker', locked_until = now() + interval '1 hour' where id = $1`, [valid!.id]);

    expect(await releaseExpiredLeases(database.pool)).toBe(1);

    const after = new Map((await deliveryRows(database)).map((row) => [row.id, row]));
    expect(after.get(expired!.id)).toMatchObject({ status: 'PENDING', attempt_count: 0, locked_by: null, locked_until: null });
    expect(after.get(expired!.id)!.next_attempt_at).not.toBeNull();
    expect(after.get(valid!.id)).toMatchObject({ status: 'SENDING', locked_by: 'live-worker' });

    // The valid lease is still held: a second sweep finds nothing to hand back.
    expect(await releaseExpiredLeases(database.pool)).toBe(0);
    expect((await deliveryRows(database)).find((row) => row.id === valid!.id)).toMatchObject({ status: 'SENDING', locked_by: 'live-worker' });
  });

  test("recovers a delivery claimed by a dispatcher that died, and delivers it once", async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const api = await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    await createWebhook(api.url, { url: `${receiver.url}/hook`, retryScheduleSeconds: [1, 1] });
    await publishEvent(api.url, { type: 'message.status', data: { status: 'delivered' } });
    // What a process killed in the middle of a send leaves behind: a claim whose lease ran out.
    await database.pool.query(`update delivery set status = 'SENDING', locked_by = 'dead-worker', locked_until = now() - interval '1 second'`);

    await newApp({ databaseUrl: database.url });
    // The sweep runs every 5 s.
    await waitForStatus(database, 'SUCCEEDED', 1, { timeoutMs: 20_000 });

    const delivery = await onlyDelivery(database);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, locked_by: null, locked_until: null });
    const attempts = await attemptRows(database, delivery.id);
    expect(attempts).toEqual([expect.objectContaining({ number: 1, response_status: 200, success: true })]);
    expect(receiver.requests.map(webhookIdOf)).toEqual([delivery.id]);
  }, 40_000);

  test('the lease index holds claims only, and no statement that merely names the SENDING status can read it', async () => {
    // After a burst, that index is mostly entries of deliveries long recorded (dead until VACUUM):
    // the statement recording attempts finds its few rows by primary key and must not be planned
    // to read all of it, as it was when the index covered status = 'SENDING'.
    const database = await newDatabase();
    await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    const { rows: indexes } = await database.pool.query(`select indexdef from pg_indexes where indexname = 'delivery_lease_index'`);
    expect(indexes.map((row) => row.indexdef)).toEqual([expect.stringMatching(/\(locked_until\) WHERE \(locked_until IS NOT NULL\)$/)]);
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      // Index plans only: an index the statement could use at all shows up in its plan.
      await client.query('set local enable_seqscan = off');
      const { rows } = await client.query(`explain update delivery set locked_by = null where locked_by = 'w' and status = 'SENDING'`);
      expect(rows.map((row) => row['QUERY PLAN'] as string).join('\n')).not.toContain('delivery_lease_index');
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  test('recording a batch of attempts finds its deliveries by primary key, not by reading the table, under a generic plan', async () => {
    // PostgreSQL cannot see how many outcomes the JSON batch holds, and its statistics say that
    // hardly any delivery is SENDING: the statement was planned as a scan of the whole table
    // matched against the batch, 1 to 3 ms per batch at 10,000 deliveries (PostgreSQL 15 here
    // turns to the primary key between 10,000 and 20,000).
    const database = await newDatabase();
    const receiver = await newReceiver();
    const app = await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    await createWebhook(app.url, { url: `${receiver.url}/hook` });
    await publishEvent(app.url, { type: 'message.status', data: { status: 'delivered' } });
    const claimed = await onlyDelivery(database);
    const { rows: [source] } = await database.pool.query('select project_id, event_id, webhook_id from delivery where id = $1', [claimed.id]);
    // A table of finished deliveries, as after a busy day, with statistics that say so.
    await database.pool.query(
      `insert into delivery (id, project_id, event_id, webhook_id, event_type, status, attempt_count)
       select gen_random_uuid(), $1, $2, $3, 'message.status', 'SUCCEEDED', 1 from generate_series(1, 10000)`,
      [source.project_id, source.event_id, source.webhook_id],
    );
    await database.pool.query('analyze delivery');

    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local plan_cache_mode = force_generic_plan`);
      await client.query(`update delivery set status = 'SENDING', locked_by = 'w', locked_until = now() + interval '1 minute' where id = $1`, [claimed.id]);
      const outcome = {
        deliveryId: claimed.id, attemptId: newId(), projectId: source.project_id, webhookId: source.webhook_id, eventId: source.event_id,
        number: 1, status: 'SUCCEEDED' as const, nextAttemptAt: null, startedAt: new Date(), durationMs: 3,
        requestMethod: 'POST', requestUrl: `${receiver.url}/hook`, requestHeaders: {}, requestBody: '{}',
        responseStatus: 200, responseHeaders: {}, responseBody: 'ok', error: null, success: true,
      };
      expect(await recordAttemptOutcomes(client, 'w', [outcome])).toEqual(new Set([claimed.id]));
      // The statement is prepared on this connection under its name: its generic plan, not run.
      const { rows: [prepared] } = await client.query(`select cardinality(parameter_types) as parameters from pg_prepared_statements where name = 'record-attempt-outcomes'`);
      const { rows } = await client.query(`explain execute "record-attempt-outcomes"(${Array(prepared.parameters).fill('null').join(', ')})`);
      const plan = rows.map((row) => row['QUERY PLAN'] as string).join('\n');
      expect(plan).toContain('delivery_pkey');
      expect(plan).not.toMatch(/Seq Scan on delivery/);
    } finally {
      await client.query('rollback');
      // The named statement and its plan go with the connection.
      client.release(true);
    }
  }, 40_000);

  test('claims commit without waiting for the disk, on connections of their own with generic plans; published events and attempt records wait for it', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const app = await newApp({ databaseUrl: database.url, withoutScheduler: true });
    await createWebhook(app.url, { url: `${receiver.url}/durable` });
    await publishEvent(app.url, { type: 'message.status', data: { n: 1 } });
    await waitForStatus(database, 'SUCCEEDED', 1);

    // Each connection's last statement stays in pg_stat_activity after it ran (and nothing runs
    // after the record here: no scheduler, no more API calls).
    const lastStatements = await database.pool.query<{ application_name: string; statement: string }>(
      `select application_name,
              case when query like '%with candidate as%' then 'claim'
                   when query like '%insert into attempt%' then 'record' end as statement
       from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()`,
    );
    const poolsBy = (statement: string) => [...new Set(lastStatements.rows.filter((row) => row.statement === statement).map((row) => row.application_name))];
    expect(poolsBy('claim')).toEqual(['hookline-claims']);
    expect(poolsBy('record')).toEqual(['hookline']);

    const settings = async (pool: typeof app.database.pool) =>
      (await pool.query(`select name, setting from pg_settings where name in ('synchronous_commit', 'plan_cache_mode', 'jit') order by name`)).rows;
    // Claims: generic plans, planned once per connection, and no JIT compiling them on every call.
    expect(await settings(app.database.claimPool)).toEqual([
      { name: 'jit', setting: 'off' },
      { name: 'plan_cache_mode', setting: 'force_generic_plan' },
      { name: 'synchronous_commit', setting: 'off' },
    ]);
    expect(await settings(app.database.pool)).toEqual([
      { name: 'jit', setting: 'off' },
      { name: 'plan_cache_mode', setting: 'auto' },
      { name: 'synchronous_commit', setting: 'on' },
    ]);
  });
});

describe('a real server process', () => {
  test('killed with SIGKILL in the middle of a send loses nothing: another process sends it again, same webhook-id', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const doomed = await startServerProcess(database.url);
    // The kill lands the moment the first request arrives, well inside its 1 s timeout, so the
    // process dies with the send in flight; later requests are answered.
    receiver.setScript((_request, index) => {
      if (index === 0) {
        doomed.process.kill('SIGKILL');
        return { hang: true };
      }
      return { status: 200 };
    });
    await createWebhook(doomed.url, { url: `${receiver.url}/hook`, timeoutMs: 1000, retryScheduleSeconds: [1, 1] });
    await publishEvent(doomed.url, { type: 'message.status', data: { status: 'delivered' } });

    await waitFor(() => receiver.requests.length === 1, { description: 'the first request' });
    expect(await waitForExit(doomed)).toEqual({ code: null, signal: 'SIGKILL' });

    // The dead process's claim is still there, with its lease.
    const claimed = await onlyDelivery(database);
    expect(claimed.status).toBe('SENDING');
    expect(claimed.attempt_count).toBe(0);
    expect(claimed.locked_by).toContain(`:${doomed.process.pid}:`);
    expect(claimed.locked_until).not.toBeNull();
    expect(await attemptRows(database, claimed.id)).toEqual([]);

    // Lease = timeout 1000 + margin 1000 ms; the survivor's sweep runs every 5 s.
    await startServerProcess(database.url);
    await waitForStatus(database, 'SUCCEEDED', 1, { timeoutMs: 30_000 });

    expect(receiver.requests.length).toBe(2);
    expect(receiver.requests.map(webhookIdOf)).toEqual([claimed.id, claimed.id]);
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
    const delivered = await onlyDelivery(database);
    expect(delivered).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, locked_by: null, locked_until: null });
    expect(await attemptRows(database, claimed.id)).toEqual([expect.objectContaining({ number: 1, response_status: 200, success: true })]);
  }, 60_000);

  test('stopped with SIGTERM lets the attempt in flight finish, records it and exits with code 0', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const server = await startServerProcess(database.url);
    // SIGTERM goes out as the request arrives; the answer comes 500 ms later, within the default 10 s grace.
    receiver.setScript(() => {
      server.process.kill('SIGTERM');
      return { status: 200, delayMs: 500, body: 'thanks' };
    });
    await createWebhook(server.url, { url: `${receiver.url}/hook`, retryScheduleSeconds: [1, 1] });
    await publishEvent(server.url, { type: 'message.status', data: { status: 'delivered' } });

    await waitFor(() => receiver.requests.length === 1, { description: 'the request' });
    expect(await waitForExit(server)).toEqual({ code: 0, signal: null });

    const delivery = await onlyDelivery(database);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, locked_by: null, locked_until: null });
    expect(await attemptRows(database, delivery.id)).toEqual([expect.objectContaining({ number: 1, response_status: 200, success: true })]);
    expect(receiver.requests.length).toBe(1);
  }, 60_000);
});

describe('graceful shutdown', () => {
  test('when the grace runs out, the send in flight is cancelled and its delivery goes back to the queue, then is delivered by the next process', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    receiver.queue({ hang: true });
    const app = await newApp({ databaseUrl: database.url, dispatcher: { shutdownGraceMs: 300 } });
    await createWebhook(app.url, { url: `${receiver.url}/hook`, timeoutMs: 30_000, retryScheduleSeconds: [1, 1] });
    await publishEvent(app.url, { type: 'message.status', data: { status: 'delivered' } });
    await waitFor(() => receiver.requests.length === 1, { description: 'the first request' });

    await app.stop();

    const handedBack = await onlyDelivery(database);
    expect(handedBack).toMatchObject({ status: 'PENDING', attempt_count: 0, locked_by: null, locked_until: null });
    expect(handedBack.next_attempt_at).not.toBeNull();
    expect(await attemptRows(database, handedBack.id)).toEqual([]);

    await newApp({ databaseUrl: database.url });
    await waitForStatus(database, 'SUCCEEDED', 1);

    expect(receiver.requests.map(webhookIdOf)).toEqual([handedBack.id, handedBack.id]);
    expect(await onlyDelivery(database)).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, locked_by: null });
    expect(await attemptRows(database, handedBack.id)).toEqual([expect.objectContaining({ number: 1, response_status: 200, success: true })]);
  }, 40_000);

  test('within the grace, the attempt in flight finishes and is recorded before stop() resolves', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const app = await newApp({ databaseUrl: database.url, dispatcher: { shutdownGraceMs: 5000 } });
    // stop() starts as the request arrives, so the attempt is certainly in flight; the answer takes 300 ms.
    let stopping: Promise<void> | null = null;
    receiver.setScript(() => {
      stopping = app.stop();
      return { status: 200, delayMs: 300, body: 'thanks' };
    });
    await createWebhook(app.url, { url: `${receiver.url}/hook`, retryScheduleSeconds: [1, 1] });
    await publishEvent(app.url, { type: 'message.status', data: { status: 'delivered' } });
    await waitFor(() => stopping !== null, { description: 'the request' });

    await stopping;

    const delivery = await onlyDelivery(database);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, locked_by: null, locked_until: null });
    const attempts = await database.pool.query('select number, response_status, response_body, success from attempt where delivery_id = $1', [delivery.id]);
    expect(attempts.rows).toEqual([{ number: 1, response_status: 200, response_body: 'thanks', success: true }]);
    expect(receiver.requests.length).toBe(1);
  }, 30_000);
});

describe('fairness between webhooks', () => {
  test('a webhook that never answers holds at most its per-webhook slots while another webhook is served', async () => {
    const database = await newDatabase();
    const slow = await newReceiver({ hang: true });
    const fast = await newReceiver({ status: 200, body: 'ok' });
    // A short grace: the slow webhook's hung sends are cut when the test ends.
    const app = await newApp({ databaseUrl: database.url, dispatcher: { concurrency: 8, perWebhookConcurrency: 2, shutdownGraceMs: 100 } });
    // A timeout far beyond the test, so the slow webhook's first two sends stay in flight throughout.
    const slowWebhook = await createWebhook(app.url, { url: `${slow.url}/hook`, eventTypes: ['report.slow'], timeoutMs: 30_000, retryScheduleSeconds: [3600] });
    const fastWebhook = await createWebhook(app.url, { url: `${fast.url}/hook`, eventTypes: ['report.fast'], retryScheduleSeconds: [1, 1] });

    await publishEvents(app.url, Array.from({ length: 20 }, (_, n) => ({ type: 'report.slow', data: { n } })));
    await publishEvents(app.url, Array.from({ length: 20 }, (_, n) => ({ type: 'report.fast', data: { n } })));

    await waitForStatus(database, 'SUCCEEDED', 20, { webhookId: fastWebhook.id, timeoutMs: 20_000 });
    await waitFor(() => slow.requests.length >= 2, { description: 'the slow webhook to have its two requests in flight' });

    expect(fast.requests.length).toBe(20);
    expect(new Set(fast.requests.map(webhookIdOf)).size).toBe(20);
    expect(slow.requests.length).toBe(2);
    const slowRows = await deliveryRows(database, slowWebhook.id);
    expect(slowRows.filter((row) => row.status === 'SENDING')).toHaveLength(2);
    expect(slowRows.filter((row) => row.status === 'PENDING')).toHaveLength(18);
  }, 40_000);
});

describe('claiming ahead of free slots', () => {
  test('a claim takes each group up to its room and no further, leaves out a group with none, and leases what waits for a slot one timeout longer', async () => {
    const database = await newDatabase();
    const api = await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    const ahead = await createWebhook(api.url, { url: 'http://127.0.0.1:9/ahead', eventTypes: ['report.ahead'], timeoutMs: 2000 });
    const full = await createWebhook(api.url, { url: 'http://127.0.0.1:9/full', eventTypes: ['report.full'], timeoutMs: 2000 });
    const other = await createWebhook(api.url, { url: 'http://127.0.0.1:9/other', eventTypes: ['report.other'], timeoutMs: 3000 });
    for (const type of ['report.ahead', 'report.full', 'report.other']) {
      await publishEvents(api.url, Array.from({ length: 10 }, (_, n) => ({ type, data: { n } })));
    }

    const claimed = await claimDueDeliveries(database.pool, {
      workerId: 'w',
      limit: 100,
      // 2 free slots and 3 more to wait for one; no room at all; and the default for the rest.
      roomByGroup: new Map([[ahead.id, 5], [full.id, 0]]),
      freeByGroup: new Map([[ahead.id, 2], [full.id, 0]]),
      defaultRoom: 4,
      leaseMarginMs: 1000,
    });

    const byWebhook = (id: string) => claimed.filter((delivery) => delivery.webhookId === id);
    expect(byWebhook(ahead.id).map((delivery) => delivery.waits).sort()).toEqual([false, false, true, true, true]);
    expect(byWebhook(full.id)).toEqual([]);
    expect(byWebhook(other.id).map((delivery) => delivery.waits)).toEqual([false, false, false, false]);
    // Each webhook's settings come once per claim and serve all its deliveries.
    expect(new Set(byWebhook(ahead.id).map((delivery) => delivery.webhook)).size).toBe(1);
    expect(byWebhook(ahead.id)[0]!.webhook).toMatchObject({ url: 'http://127.0.0.1:9/ahead', method: 'POST', timeoutMs: 2000, active: true, secret: expect.stringMatching(/^whsec_/) });
    expect(byWebhook(other.id).every((delivery) => delivery.webhook?.url === 'http://127.0.0.1:9/other' && delivery.webhook.timeoutMs === 3000)).toBe(true);
    // The lease, from the statement's own clock: timeout + margin to start at once, one more timeout to wait.
    const { rows } = await database.pool.query(
      `select webhook_id, extract(epoch from locked_until - updated_at)::float as lease_seconds, count(*)::int as deliveries
       from delivery where status = 'SENDING' and locked_by = 'w' group by 1, 2 order by 1, 2`,
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { webhook_id: ahead.id, lease_seconds: 3, deliveries: 2 },
        { webhook_id: ahead.id, lease_seconds: 5, deliveries: 3 },
        { webhook_id: other.id, lease_seconds: 4, deliveries: 4 },
      ]),
    );
    expect(rows).toHaveLength(3);
  });

  test('a webhook that answers at once has deliveries claimed ahead, waiting in the process; a stop hands them back unsent, and the next process sends each once', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    // The first six answers come at once; after them the receiver answers nothing.
    receiver.setScript((_request, index) => (index < 6 ? { status: 200, body: 'ok' } : { hang: true }));
    const app = await newApp({ databaseUrl: database.url, dispatcher: { concurrency: 8, perWebhookConcurrency: 2, shutdownGraceMs: 100 } });
    const webhook = await createWebhook(app.url, { url: `${receiver.url}/hook`, timeoutMs: 30_000, retryScheduleSeconds: [3600] });
    await publishEvents(app.url, Array.from({ length: 20 }, (_, n) => ({ type: 'message.status', data: { n } })));

    // Two requests hang, holding both slots; the claims made while answers were coming back took
    // more than the free slots, and those wait in the process: claimed, not sent.
    await waitFor(async () => receiver.requests.length === 8 && (await countWithStatus(database, 'SENDING', webhook.id)) > 2, {
      description: 'two requests in flight and deliveries claimed ahead of them',
    });
    expect(await countWithStatus(database, 'SUCCEEDED', webhook.id)).toBe(6);
    const claimedAhead = (await deliveryRows(database, webhook.id)).filter((row) => row.status === 'SENDING' && !receiver.requests.some((request) => webhookIdOf(request) === row.id));
    expect(claimedAhead.length).toBeGreaterThan(0);
    expect(claimedAhead.length).toBeLessThanOrEqual(2);

    await app.stop();

    // Nothing stays claimed: the two cut off and those that waited are all due again, unattempted.
    const afterStop = await deliveryRows(database, webhook.id);
    expect(afterStop.filter((row) => row.status === 'SUCCEEDED')).toHaveLength(6);
    expect(afterStop.filter((row) => row.status !== 'SUCCEEDED').every((row) => row.status === 'PENDING' && row.attempt_count === 0 && row.locked_by === null)).toBe(true);
    expect(receiver.requests).toHaveLength(8);

    receiver.setScript(() => ({ status: 200, body: 'ok' }));
    await newApp({ databaseUrl: database.url, dispatcher: { concurrency: 8, perWebhookConcurrency: 2 } });
    await waitForStatus(database, 'SUCCEEDED', 20, { webhookId: webhook.id });

    // Every delivery answered 200 exactly once; only the two cut off were sent twice.
    const ids = receiver.requests.map(webhookIdOf);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(22);
    for (const row of claimedAhead) expect(ids.filter((id) => id === row.id)).toHaveLength(1);
  }, 40_000);

  test('a delivery claimed ahead that waited past what its lease allows is handed back, not sent, and then sent once by a fresh claim', async () => {
    // The dispatcher's clock is moved on while a delivery waits: as if the process had stalled
    // for a minute. Everything else is real: the database, the receiver, got.
    const database = await newDatabase();
    const receiver = await newReceiver();
    // The fourth request gets no answer; it ends at its timeout, 3 s of real time.
    receiver.setScript((_request, index) => (index === 3 ? { hang: true } : { status: 200, body: 'ok' }));
    const api = await newApp({ databaseUrl: database.url, withoutDispatcher: true });
    const webhook = await createWebhook(api.url, { url: `${receiver.url}/hook`, timeoutMs: 3000, retryScheduleSeconds: [3600] });
    await publishEvents(api.url, Array.from({ length: 6 }, (_, n) => ({ type: 'message.status', data: { n } })));

    let clockOffsetMs = 0;
    const logLines: Record<string, unknown>[] = [];
    const logger = createLogger('warn', { write: (line: string) => void logLines.push(JSON.parse(line)) });
    const sender = createHttpSender({ maximumResponseBodyBytes: 1024, maximumSocketsPerHost: 4, addressPolicy: new AddressPolicy({ allowPrivateNetworks: ['127.0.0.1'] }) });
    const dispatcher = new Dispatcher(database.pool, sender, logger, {
      workerId: 'stalled-worker',
      concurrency: 8,
      perWebhookConcurrency: 1,
      leaseMarginMs: 1000,
      maximumResponseBodyBytes: 1024,
      now: () => new Date(Date.now() + clockOffsetMs),
    });
    try {
      dispatcher.poke();
      // The fourth request hangs, and the next delivery waits for its slot, claimed.
      await waitFor(async () => receiver.requests.length === 4 && (await countWithStatus(database, 'SENDING', webhook.id)) === 2, {
        description: 'a hung request and a delivery claimed ahead of it',
      });
      const hung = webhookIdOf(receiver.requests[3]!);
      const [waiting] = (await deliveryRows(database, webhook.id)).filter((row) => row.status === 'SENDING' && row.id !== hung);
      clockOffsetMs = 60_000;

      await waitFor(async () => (await countWithStatus(database, 'SUCCEEDED', webhook.id)) === 5, { description: 'every delivery but the hung one delivered', timeoutMs: 20_000 });
      await dispatcher.whenIdle();

      expect(logLines).toContainEqual(expect.objectContaining({ level: 40, deliveryId: waiting!.id, msg: 'a claimed delivery waited too long for a slot; handing it back' }));
      const ids = receiver.requests.map(webhookIdOf);
      expect(ids.filter((id) => id === waiting!.id)).toHaveLength(1);
      expect(new Set(ids).size).toBe(6);
      expect(ids).toHaveLength(6);
      expect((await deliveryRows(database, webhook.id)).find((row) => row.id === hung)).toMatchObject({ status: 'RETRYING', attempt_count: 1 });
    } finally {
      await dispatcher.stop(100);
      sender.close();
    }
  }, 40_000);
});
