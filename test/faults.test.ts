/**
 * Faults injected for real: a server process killed with SIGKILL under load, several server
 * processes sharing one database, PostgreSQL stopping and coming back under a running server,
 * and a receiver that is down for a while. Each test logs what it measured (one `[faults]` line)
 * so the numbers can be quoted: events published, delivered, lost, duplicated, recovery time.
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startServerProcess as startServer, type ServerProcess } from './support/server-process.js';
import { createWebhook, graphql, graphqlData, publishEvent, publishEventMutation, subscribe, webSocketClient } from './support/graphql.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/persistence/embedded-database.js';

// ---------------------------------------------------------------------------------------------
// Resources: everything a test starts is released after it, whatever happened.

const resources = trackTestResources('each');
const { newDatabase, newReceiver, newApp } = resources;

function report(test: string, measured: Record<string, unknown>): void {
  console.log(`[faults] ${test}: ${Object.entries(measured).map(([name, value]) => `${name}=${value}`).join(' ')}`);
}

function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  return startServer(databaseUrl, resources.onCleanup);
}

// ---------------------------------------------------------------------------------------------
// Reading what was stored.

interface DeliveryRow {
  id: string;
  status: string;
  attempt_count: number;
  webhook_id: string | null;
}

async function deliveryRows(pool: pg.Pool, webhookId?: string): Promise<DeliveryRow[]> {
  const result = await pool.query(
    'select id, status, attempt_count, webhook_id from delivery where $1::uuid is null or webhook_id = $1::uuid order by id',
    [webhookId ?? null],
  );
  return result.rows;
}

async function countWithStatus(pool: pg.Pool, status: string, webhookId?: string): Promise<number> {
  const result = await pool.query('select count(*)::int as n from delivery where status = $1 and ($2::uuid is null or webhook_id = $2::uuid)', [status, webhookId ?? null]);
  return result.rows[0].n;
}

async function waitForStatus(pool: pg.Pool, status: string, count: number, options: { webhookId?: string; timeoutMs?: number } = {}): Promise<void> {
  await waitFor(async () => (await countWithStatus(pool, status, options.webhookId)) === count, {
    timeoutMs: options.timeoutMs ?? 20_000,
    intervalMs: 50,
    description: `${count} ${status} deliveries${options.webhookId ? ` of webhook ${options.webhookId}` : ''}`,
  });
}

/** Events stored without any delivery: a publish stored half-way (every test webhook takes every event it is sent). */
async function eventsWithoutDeliveries(pool: pg.Pool): Promise<number> {
  const result = await pool.query('select count(*)::int as n from event e where not exists (select 1 from delivery d where d.event_id = e.id)');
  return result.rows[0].n;
}

const publishEventsMutation = `mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

async function publishEvents(url: string, inputs: Record<string, unknown>[]): Promise<{ id: string }[]> {
  return (await graphqlData(url, publishEventsMutation, { inputs })).publishEvents;
}

const webhookIdOf = (request: { headers: Record<string, unknown> }) => request.headers['webhook-id'] as string;

// ---------------------------------------------------------------------------------------------

describe('a server process killed with SIGKILL under load', () => {
  test('loses no event and no delivery: a second process sends what was in flight again, and only that', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const doomed = await startServerProcess(database.url);

    const total = 2000;
    const batchSize = 200;
    const killAfter = Math.floor(total / 3);
    const batches = Array.from({ length: total / batchSize }, (_, batch) =>
      Array.from({ length: batchSize }, (_, n) => ({ type: 'message.status', channel: 'sms', idempotencyKey: `crash-${batch}-${n}`, data: { batch, n } })),
    );
    const acknowledged = new Map<number, string[]>();
    // The client publishes batch after batch, keeping a few batches ahead of the deliveries, so
    // that a publish is usually under way at the kill; that one gets no answer.
    const publisher = {
      inFlight: false,
      finished: false,
      unanswered: null as { batch: number; afterKill: boolean; error: string } | null,
    };

    let killedAt: number | null = null;
    // The kill lands as the receiver takes its ~667th request, with sends in flight, preferably
    // while a publish is under way too.
    receiver.setScript((_request, index) => {
      if (killedAt === null && index >= killAfter - 1 && (publisher.inFlight || publisher.finished || index >= killAfter + 300)) {
        doomed.process.kill('SIGKILL');
        killedAt = Date.now();
      }
      return { status: 200, delayMs: Math.floor(Math.random() * 6) };
    });
    const webhook = await createWebhook(doomed.url, { url: `${receiver.url}/hook`, timeoutMs: 2000, retryScheduleSeconds: [1, 1] });

    // Batch k goes out once the receiver has had killAfter - (6 - k) * 200 requests: batches 0 to 2 at once,
    // batch 6 as the kill is due, so the kill lands while it is under way.
    const publishing = (async () => {
      for (const [batch, inputs] of batches.entries()) {
        await waitFor(() => killedAt !== null || receiver.requests.length >= killAfter - (6 - batch) * batchSize, { timeoutMs: 30_000, intervalMs: 2 });
        if (killedAt !== null) return;
        publisher.inFlight = true;
        try {
          acknowledged.set(batch, (await publishEvents(doomed.url, inputs)).map((event) => event.id));
        } catch (error) {
          publisher.unanswered = { batch, afterKill: killedAt !== null, error: String(error) };
          return;
        } finally {
          publisher.inFlight = false;
        }
      }
      publisher.finished = true;
    })();

    await waitFor(() => killedAt !== null, { timeoutMs: 30_000, description: `${killAfter} requests at the receiver` });
    const receivedAtKill = receiver.requests.length;
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await publishing;
    // A publish can only go unanswered because the process died under it.
    const unanswered = publisher.unanswered;
    if (unanswered !== null) expect(unanswered).toMatchObject({ afterKill: true });

    // The dead process's statements that were running still finish (or roll back); then the rows are final.
    await waitFor(
      async () =>
        (await database.pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and coalesce(state, '') <> 'idle'`)).rows[0].n === 0,
      { timeoutMs: 10_000, description: "the dead process's statements to end" },
    );
    const sendingAtKill = new Set((await deliveryRows(database.pool)).filter((row) => row.status === 'SENDING').map((row) => row.id));

    // Publishing side: every acknowledged event is stored; a batch is stored whole or not at all.
    const storedKeys = new Set<string>((await database.pool.query('select idempotency_key from event')).rows.map((row) => row.idempotency_key));
    const storedIds = new Set<string>((await database.pool.query('select id from event')).rows.map((row) => row.id));
    let storedBatches = 0;
    for (const [batch, inputs] of batches.entries()) {
      const present = inputs.filter((input) => storedKeys.has(input.idempotencyKey)).length;
      expect({ batch, storedWholeOrNotAtAll: present === 0 || present === batchSize }).toEqual({ batch, storedWholeOrNotAtAll: true });
      if (acknowledged.has(batch)) {
        expect(present).toBe(batchSize);
        expect(acknowledged.get(batch)!.every((id) => storedIds.has(id))).toBe(true);
      }
      if (present === batchSize) storedBatches++;
    }
    const acknowledgedEvents = acknowledged.size * batchSize;
    const inFlightBatchStored = storedBatches > acknowledged.size;
    expect(storedBatches - acknowledged.size).toBeLessThanOrEqual(unanswered === null ? 0 : 1);
    expect(storedIds.size).toBe(storedBatches * batchSize);
    expect(await eventsWithoutDeliveries(database.pool)).toBe(0);

    // Recovery: a second process on the same database; the client publishes again what got no answer, with the same keys.
    const restartedAt = Date.now();
    const survivor = await startServerProcess(database.url);
    const survivorReadyMs = Date.now() - restartedAt;
    for (const [batch, inputs] of batches.entries()) {
      if (!acknowledged.has(batch)) acknowledged.set(batch, (await publishEvents(survivor.url, inputs)).map((event) => event.id));
    }
    expect((await database.pool.query('select count(*)::int as n from event')).rows[0].n).toBe(total);
    await waitForStatus(database.pool, 'SUCCEEDED', total, { timeoutMs: 45_000 });
    const recoveryMs = Date.now() - restartedAt;

    const deliveries = await deliveryRows(database.pool);
    expect(deliveries).toHaveLength(total);
    expect(deliveries.every((row) => row.webhook_id === webhook.id)).toBe(true);
    const deliveryIds = new Set(deliveries.map((row) => row.id));
    const receivedIds = receiver.requests.map(webhookIdOf);
    const distinctReceived = new Set(receivedIds);
    const lost = [...deliveryIds].filter((id) => !distinctReceived.has(id));
    expect(lost).toEqual([]);
    expect([...distinctReceived].every((id) => deliveryIds.has(id))).toBe(true);
    const eventIdsReceived = new Set(receiver.requests.map((request) => JSON.parse(request.body).id as string));
    expect(eventIdsReceived).toEqual(new Set([...acknowledged.values()].flat()));

    // Duplicates: only deliveries that were being sent when the process died may go out twice
    // (besides attempts that failed on the record, e.g. a timeout on this busy machine, which are retries by design).
    const duplicates = receivedIds.length - distinctReceived.size;
    const timesReceived = new Map<string, number>();
    for (const id of receivedIds) timesReceived.set(id, (timesReceived.get(id) ?? 0) + 1);
    const duplicatedIds = [...timesReceived].filter(([, times]) => times > 1).map(([id]) => id);
    const failedAttempts = new Set<string>((await database.pool.query('select distinct delivery_id from attempt where not success')).rows.map((row) => row.delivery_id));
    const unexplained = duplicatedIds.filter((id) => !sendingAtKill.has(id) && !failedAttempts.has(id));
    expect(unexplained).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(sendingAtKill.size + failedAttempts.size);
    // Each delivery has exactly one successful attempt on record: the resent ones were never recorded by the dead process.
    const attempts = await database.pool.query('select delivery_id, count(*) filter (where success)::int as successes from attempt group by delivery_id');
    expect(attempts.rows).toHaveLength(total);
    expect(attempts.rows.every((row) => row.successes === 1)).toBe(true);

    // Where the recovery time goes: the claims the dead process held wait for their lease (timeout + margin) and the sweep.
    const succeededAt = await database.pool.query<{ delivery_id: string; finished: Date }>(
      `select delivery_id, started_at + make_interval(secs => coalesce(duration_ms, 0) / 1000.0) as finished from attempt where success`,
    );
    const latest = (rows: { finished: Date }[]) => Math.max(...rows.map((row) => row.finished.getTime())) - restartedAt;
    const deadProcessClaimsDoneMs = latest(succeededAt.rows.filter((row) => sendingAtKill.has(row.delivery_id)));
    const restMs = latest(succeededAt.rows.filter((row) => !sendingAtKill.has(row.delivery_id)));
    const perSecond = (requests: { receivedAt: number }[]) =>
      requests.length < 2 ? 0 : Math.round((requests.length * 1000) / Math.max(1, requests.at(-1)!.receivedAt - requests[0]!.receivedAt));

    report('SIGKILL under load', {
      published: total,
      acknowledgedBeforeKill: acknowledgedEvents,
      batchInFlightAtKill: unanswered === null ? 'none' : `#${unanswered.batch}(${inFlightBatchStored ? 'stored whole' : 'not stored'})`,
      receivedAtKill,
      sendingAtKill: sendingAtKill.size,
      requests: receivedIds.length,
      delivered: distinctReceived.size,
      lost: lost.length,
      duplicated: duplicates,
      failedAttempts: failedAttempts.size,
      recoveryMs,
      survivorReadyMs,
      lastOfTheDeadsClaimsDeliveredMs: deadProcessClaimsDoneMs,
      lastOfTheRestDeliveredMs: restMs,
      requestsPerSecondBeforeKill: perSecond(receiver.requests.slice(0, receivedAtKill)),
      requestsPerSecondAfterRestart: perSecond(receiver.requests.filter((request) => request.receivedAt >= restartedAt)),
    });
  }, 90_000);
});

describe('several server processes on one database', () => {
  test('share the work, deliver each event exactly once, and tell subscribers on either process about all of it', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    receiver.setScript(() => ({ status: 200, delayMs: Math.floor(Math.random() * 6) }));
    const probes = await newReceiver();
    const [a, b] = await Promise.all([startServerProcess(database.url), startServerProcess(database.url)]);
    const webhook = await createWebhook(a.url, { url: `${receiver.url}/hook`, eventTypes: ['order.created'], retryScheduleSeconds: [1, 1] });
    await createWebhook(a.url, { url: `${probes.url}/probe`, eventTypes: ['probe.ping'], retryScheduleSeconds: [1, 1] });

    // A subscriber on process B, registered before anything is published (a probe update proves it).
    const client = webSocketClient(b.url);
    resources.onCleanup(async () => client.dispose());
    const live = subscribe<{ deliveryUpdated: { id: string; webhookId: string | null; status: string } }>(
      client,
      'subscription { deliveryUpdated { id webhookId status } }',
    );
    await waitFor(
      async () => {
        await publishEvent(a.url, { type: 'probe.ping', data: {} });
        return waitFor(() => live.received.some((update) => update.deliveryUpdated.webhookId !== webhook.id), { timeoutMs: 2000 }).catch(() => false);
      },
      { timeoutMs: 20_000, description: 'the subscription on process B to be live' },
    );

    const total = 600;
    for (let batch = 0; batch < 3; batch++) {
      await publishEvents(a.url, Array.from({ length: 200 }, (_, n) => ({ type: 'order.created', data: { n: batch * 200 + n } })));
    }
    await waitForStatus(database.pool, 'SUCCEEDED', total, { webhookId: webhook.id, timeoutMs: 45_000 });
    const succeededSeenByB = () =>
      new Set(live.received.map((update) => update.deliveryUpdated).filter((update) => update.webhookId === webhook.id && update.status === 'SUCCEEDED').map((update) => update.id));
    await waitFor(() => succeededSeenByB().size === total, { timeoutMs: 10_000, description: `${total} SUCCEEDED updates on process B` });

    // Exactly once.
    expect(receiver.requests.length).toBe(total);
    const receivedIds = new Set(receiver.requests.map(webhookIdOf));
    expect(receivedIds.size).toBe(total);
    const deliveries = await deliveryRows(database.pool, webhook.id);
    expect(new Set(deliveries.map((row) => row.id))).toEqual(receivedIds);
    expect(deliveries.every((row) => row.status === 'SUCCEEDED' && row.attempt_count === 1)).toBe(true);
    const attempts = await database.pool.query<{ delivery_id: string; worker_id: string; number: number; success: boolean }>(
      'select delivery_id, worker_id, number, success from attempt where webhook_id = $1',
      [webhook.id],
    );
    expect(attempts.rows).toHaveLength(total);
    expect(new Set(attempts.rows.map((row) => row.delivery_id)).size).toBe(total);
    expect(attempts.rows.every((row) => row.number === 1 && row.success)).toBe(true);

    // Shared: both processes made attempts, and nobody else did.
    const byA = attempts.rows.filter((row) => row.worker_id.includes(`:${a.pid}:`));
    const byB = attempts.rows.filter((row) => row.worker_id.includes(`:${b.pid}:`));
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    expect(byA.length + byB.length).toBe(total);

    // B's subscriber heard of the deliveries A made (through PostgreSQL's NOTIFY), in fact of all of them.
    const seenByB = succeededSeenByB();
    const madeByAAndSeenByB = byA.filter((row) => seenByB.has(row.delivery_id));
    expect(madeByAAndSeenByB).toHaveLength(byA.length);
    expect(live.errors).toEqual([]);

    report('two processes, one database', {
      published: total,
      requests: receiver.requests.length,
      delivered: receivedIds.size,
      lost: total - receivedIds.size,
      duplicated: receiver.requests.length - receivedIds.size,
      attemptsByA: byA.length,
      attemptsByB: byB.length,
      succeededUpdatesOnB: seenByB.size,
      ofWhichMadeByA: madeByAAndSeenByB.length,
    });
  }, 90_000);
});

describe('PostgreSQL stops and comes back while the server runs', () => {
  test('the server reports itself unavailable, refuses publishes without storing half, and recovers by itself', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'hookline-faults-pg-'));
    resources.onCleanup(() => rm(directory, { recursive: true, force: true }));
    const dataDir = path.join(directory, 'postgres');
    const port = await freePort();
    let embedded: EmbeddedDatabase = await startEmbeddedDatabase({ dataDir, preferredPort: port, log: () => undefined });
    resources.onCleanup(() => embedded.stop());
    expect(embedded.port).toBe(port);

    const receiver = await newReceiver();
    const app = await newApp({ databaseUrl: embedded.url });
    const healthz = `http://127.0.0.1:${app.port}/healthz`;
    const pool = new pg.Pool({ connectionString: embedded.url, max: 2 });
    pool.on('error', () => undefined);
    resources.onCleanup(() => pool.end());
    const webhook = await createWebhook(app.url, { url: `${receiver.url}/hook`, retryScheduleSeconds: [1, 1] });
    expect((await fetch(healthz)).status).toBe(200);

    const stoppedAt = Date.now();
    await embedded.stop();

    // Unhealthy on both counts: the database does not answer and the notification connection is gone.
    const unhealthy = await waitFor(
      async () => {
        const response = await fetch(healthz);
        const body = (await response.json()) as { status: string; checks: Record<string, string> };
        return response.status === 503 && body.checks['notifications'] === 'reconnecting' ? body : null;
      },
      { timeoutMs: 15_000, description: '/healthz to answer 503 with the notifications reconnecting' },
    );
    expect(unhealthy.status).toBe('unavailable');
    expect(unhealthy.checks['database']).toMatch(/^unreachable/);

    const codesSeen: string[] = [];
    let lastAnswer = '';
    const refused = await waitFor(
      async () => {
        const result = await graphql(app.url, publishEventMutation, { input: { type: 'message.status', idempotencyKey: 'during-the-outage', data: { n: 0 } } });
        const code = result.errors?.[0]?.extensions?.code ?? 'none';
        lastAnswer = JSON.stringify(result);
        codesSeen.push(code);
        return code === 'SERVICE_UNAVAILABLE' ? result : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'publishEvent to answer SERVICE_UNAVAILABLE' },
    ).catch((error) => {
      throw new Error(`${String(error)}; answers seen: ${codesSeen.join(',')}; last: ${lastAnswer}`);
    }
    );
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toHaveLength(1);

    // The same data directory and port; a port still held by the old server's sockets is tried again.
    const restartedAt = Date.now();
    embedded = await waitFor(
      async () => {
        const started = await startEmbeddedDatabase({ dataDir, preferredPort: port, log: () => undefined });
        if (started.port === port) return started;
        await started.stop();
        return null;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: `PostgreSQL to start again on port ${port}` },
    );
    const upAt = Date.now();

    await waitFor(async () => (await fetch(healthz)).status === 200, { timeoutMs: 20_000, intervalMs: 50, description: '/healthz to answer 200 again' });
    const healthyAt = Date.now();

    const event = await publishEvent(app.url, { type: 'message.status', idempotencyKey: 'after-the-outage', data: { n: 1 } });
    await waitFor(() => receiver.requests.some((request) => JSON.parse(request.body).id === event.id), { timeoutMs: 20_000, description: 'the event published after the outage to be delivered' });
    const deliveredAt = Date.now();
    await waitForStatus(pool, 'SUCCEEDED', 1, { webhookId: webhook.id });

    // Nothing stored half-way: the refused event is absent, or (had the error raced the commit) complete with its delivery.
    const outage = await pool.query(`select e.id, count(d.id)::int as deliveries from event e left join delivery d on d.event_id = e.id where e.idempotency_key = 'during-the-outage' group by e.id`);
    expect(outage.rows.every((row) => row.deliveries === 1)).toBe(true);
    expect(await eventsWithoutDeliveries(pool)).toBe(0);
    expect((await pool.query('select count(*)::int as n from event')).rows[0].n).toBe(1 + outage.rows.length);

    report('PostgreSQL outage', {
      outageMs: restartedAt - stoppedAt,
      publishAnswersDuringOutage: codesSeen.join(','),
      outageEventStored: outage.rows.length,
      postgresStartMs: upAt - restartedAt,
      healthyAfterRestartMs: healthyAt - upAt,
      firstDeliveryAfterRestartMs: deliveredAt - upAt,
    });
  }, 90_000);
});

describe('a receiver that is down for a while', () => {
  test("does not hold up other webhooks, and gets its backlog once it is back, within the retry schedule", async () => {
    const database = await newDatabase();
    const healthy = await newReceiver();
    const downPort = await freePort();
    const app = await newApp({ databaseUrl: database.url });
    const down = await createWebhook(app.url, { url: `http://127.0.0.1:${downPort}/hook`, eventTypes: ['order.created'], retryScheduleSeconds: [1, 1, 1, 1, 1, 1] });
    const up = await createWebhook(app.url, { url: `${healthy.url}/hook`, eventTypes: ['order.shipped'], retryScheduleSeconds: [1, 1] });

    const publishedAt = Date.now();
    await publishEvents(app.url, Array.from({ length: 20 }, (_, n) => ({ type: 'order.created', data: { n } })));
    await publishEvents(app.url, Array.from({ length: 100 }, (_, n) => ({ type: 'order.shipped', data: { n } })));

    await waitForStatus(database.pool, 'SUCCEEDED', 100, { webhookId: up.id });
    const healthyTookMs = Date.now() - publishedAt;
    expect(new Set(healthy.requests.map(webhookIdOf)).size).toBe(100);

    // Meanwhile every delivery to the receiver that is down has failed at least once and waits to be retried.
    const waiting = await waitFor(
      async () => {
        const rows = await deliveryRows(database.pool, down.id);
        return rows.every((row) => row.status === 'RETRYING' && row.attempt_count >= 1) ? rows : null;
      },
      { timeoutMs: 10_000, intervalMs: 20, description: 'all 20 deliveries of the webhook that is down to be RETRYING' },
    );
    expect(waiting).toHaveLength(20);
    const failures = await database.pool.query('select distinct error from attempt where webhook_id = $1', [down.id]);
    expect(failures.rows).toEqual([{ error: 'connection refused' }]);

    // The receiver comes back on the same port.
    const backRequests: { id: string; receivedAt: number }[] = [];
    const backAgain = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        backRequests.push({ id: request.headers['webhook-id'] as string, receivedAt: Date.now() });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => backAgain.listen(downPort, '127.0.0.1', resolve));
    resources.onCleanup(
      () =>
        new Promise((resolve) => {
          backAgain.closeAllConnections();
          backAgain.close(resolve);
        }),
    );
    const backAt = Date.now();

    await waitForStatus(database.pool, 'SUCCEEDED', 20, { webhookId: down.id, timeoutMs: 15_000 });
    const drainMs = Date.now() - backAt;

    const drained = await deliveryRows(database.pool, down.id);
    expect(drained.every((row) => row.status === 'SUCCEEDED' && row.attempt_count >= 2 && row.attempt_count <= 7)).toBe(true);
    expect(new Set(backRequests.map((request) => request.id))).toEqual(new Set(drained.map((row) => row.id)));
    expect(backRequests).toHaveLength(20);
    expect(await countWithStatus(database.pool, 'FAILED')).toBe(0);

    report('receiver down, then back', {
      published: 120,
      healthyWebhookDelivered: new Set(healthy.requests.map(webhookIdOf)).size,
      healthyWebhookTookMs: healthyTookMs,
      downWebhookAttemptsWhileDown: waiting.reduce((sum, row) => sum + row.attempt_count, 0),
      downWebhookDelivered: backRequests.length,
      lost: 20 - new Set(backRequests.map((request) => request.id)).size,
      drainAfterBackMs: drainMs,
      maxAttemptsPerDelivery: Math.max(...drained.map((row) => row.attempt_count)),
    });
  }, 60_000);
});
