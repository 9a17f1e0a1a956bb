/**
 * Tools for operators: replaying finished deliveries (the dead-letter queue and more),
 * cancelling queued ones, the retention sweep, and per-key ordering of deliveries.
 *
 * Each describe has its own database. Most run an API-only app and drive its dispatcher
 * (drain()), so a test decides when deliveries go out and can look at them in between.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Answer, type Receiver } from './support/receiver.js';
import { createWebhook, graphql, graphqlData, publishEvent, type GraphQLResult } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import type { Hookline } from '../src/server/hookline.js';

const day = 24 * 3600 * 1000;

// ---------------------------------------------------------------------------------------------
// Helpers

const replayMutation = `mutation ($filter: ReplayFilter!) { replayDeliveries(filter: $filter) }`;
const cancelMutation = `mutation ($id: ID!) { cancelDelivery(id: $id) { id status attemptCount nextAttemptAt } }`;
const publishEventsMutation = `mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

/** Everything one describe starts, released in its afterAll. */
function environment(options: { withoutDispatcher: boolean; withoutScheduler?: boolean }) {
  const state = {
    database: undefined as unknown as TestDatabase,
    app: undefined as unknown as Hookline,
    receivers: [] as Receiver[],
    async receiver(fallback?: Answer): Promise<Receiver> {
      const receiver = await startReceiver(fallback);
      state.receivers.push(receiver);
      return receiver;
    },
  };
  beforeAll(async () => {
    state.database = await createTestDatabase();
    state.app = await startTestApp({ databaseUrl: state.database.url, withoutDispatcher: options.withoutDispatcher, withoutScheduler: options.withoutScheduler });
  });
  afterAll(async () => {
    await state.app?.stop();
    await Promise.all(state.receivers.map((receiver) => receiver.close()));
    await state.database?.drop();
  });
  return state;
}

/** Drives an API-only app's dispatcher until nothing due is left. */
async function drain(app: Hookline): Promise<void> {
  for (;;) {
    const claimed = await app.dispatcher.runOnce();
    await app.dispatcher.whenIdle();
    if (claimed === 0) return;
  }
}

async function replay(app: Hookline, filter: Record<string, unknown>): Promise<number> {
  return (await graphqlData(app.url, replayMutation, { filter })).replayDeliveries;
}

function expectError(result: GraphQLResult, code: string): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions?.code).toBe(code);
  expect(result.data ?? null).toBeNull();
}

interface DeliveryRow {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

async function deliveryOfEvent(database: TestDatabase, eventId: string): Promise<DeliveryRow> {
  const result = await database.pool.query('select id, status, attempt_count, next_attempt_at, created_at, updated_at from delivery where event_id = $1', [eventId]);
  expect(result.rows).toHaveLength(1);
  return result.rows[0];
}

/** Every delivery's status, attempt count and last change, by id: what a replay may change. */
async function deliveryStates(database: TestDatabase): Promise<Map<string, string>> {
  const result = await database.pool.query('select id, status, attempt_count, updated_at from delivery');
  return new Map(result.rows.map((row) => [row.id, `${row.status}/${row.attempt_count}/${row.updated_at.toISOString()}`]));
}

function changedIds(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([id, state]) => before.get(id) !== state).map(([id]) => id).sort();
}

async function count(database: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await database.pool.query(sql, params)).rows[0].count);
}

/** The delivery ids a receiver was sent (Standard Webhooks' webhook-id), in arrival order. */
function deliveryIdsSent(receiver: Receiver): string[] {
  return receiver.requests.map((request) => request.headers['webhook-id'] as string);
}

// ---------------------------------------------------------------------------------------------

describe('replayDeliveries', () => {
  const env = environment({ withoutDispatcher: true });

  test('queues again the finished deliveries its filter selects, FAILED by default, and returns how many', async () => {
    const { app, database } = env;
    const receiverA = await env.receiver({ status: 500, body: 'down' });
    const receiverB = await env.receiver({ status: 500, body: 'down' });
    const a = await createWebhook(app.url, { name: 'a', url: `${receiverA.url}/a`, eventTypes: ['order.*'], retryScheduleSeconds: [] });
    const b = await createWebhook(app.url, { name: 'b', url: `${receiverB.url}/b`, eventTypes: ['invoice.*'], retryScheduleSeconds: [] });

    // One at a time, so each delivery has its own creation time and known outcome.
    const publishAndSend = async (type: string) => {
      const event = await publishEvent(app.url, { type, data: {} });
      await drain(app);
      return deliveryOfEvent(database, event.id);
    };
    receiverA.queue({ status: 200 });
    await publishAndSend('order.created');
    const f1 = await publishAndSend('order.created');
    const f2 = await publishAndSend('order.created');
    const f3 = await publishAndSend('order.cancelled');
    const g1 = await publishAndSend('invoice.paid');
    const g2 = await publishAndSend('invoice.paid');
    const succeeded = (await database.pool.query(`select id from delivery where webhook_id = $1 and status = 'SUCCEEDED'`, [a.id])).rows;
    expect(succeeded).toHaveLength(1);
    const s1 = succeeded[0].id as string;
    for (const delivery of [f1, f2, f3, g1, g2]) expect(delivery).toMatchObject({ status: 'FAILED', attempt_count: 1 });

    // Only finished deliveries can be replayed: nothing changes when others are asked for.
    const initial = await deliveryStates(database);
    expectError(await graphql(app.url, replayMutation, { filter: { statuses: ['PENDING'] } }), 'BAD_USER_INPUT');
    expectError(await graphql(app.url, replayMutation, { filter: { webhookId: a.id, statuses: ['FAILED', 'SENDING'] } }), 'BAD_USER_INPUT');
    expect(await deliveryStates(database)).toEqual(initial);
    expect(await replay(app, { eventType: 'order.refunded' })).toBe(0);

    // By event type: only order.cancelled; it fails again (the receiver is still down).
    let before = await deliveryStates(database);
    expect(await replay(app, { eventType: 'order.cancelled' })).toBe(1);
    expect(changedIds(before, await deliveryStates(database))).toEqual([f3.id]);
    const queued = (await database.pool.query('select status, next_attempt_at from delivery where id = $1', [f3.id])).rows[0];
    expect(queued.status).toBe('RETRYING');
    expect(queued.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now());
    await drain(app);
    expect(deliveryIdsSent(receiverA).slice(-1)).toEqual([f3.id]);

    // By creation time: at or after f2's, before f3's.
    expect(f2.created_at.getTime()).toBeGreaterThan(f1.created_at.getTime());
    expect(f3.created_at.getTime()).toBeGreaterThan(f2.created_at.getTime());
    before = await deliveryStates(database);
    expect(await replay(app, { createdAfter: f2.created_at.toISOString(), createdBefore: f3.created_at.toISOString() })).toBe(1);
    expect(changedIds(before, await deliveryStates(database))).toEqual([f2.id]);
    await drain(app);
    expect(deliveryIdsSent(receiverA).slice(-1)).toEqual([f2.id]);

    // The receiver is back. A SUCCEEDED delivery is replayed when asked for by status.
    receiverA.setScript(() => ({ status: 200, body: 'ok' }));
    before = await deliveryStates(database);
    expect(await replay(app, { webhookId: a.id, statuses: ['SUCCEEDED'] })).toBe(1);
    expect(changedIds(before, await deliveryStates(database))).toEqual([s1]);
    await drain(app);
    expect(deliveryIdsSent(receiverA).slice(-1)).toEqual([s1]);

    // By webhook, with the default status FAILED: A's three failed deliveries, not B's.
    before = await deliveryStates(database);
    const sentBefore = receiverA.requests.length;
    expect(await replay(app, { webhookId: a.id })).toBe(3);
    expect(changedIds(before, await deliveryStates(database))).toEqual([f1.id, f2.id, f3.id].sort());
    const replayed = await database.pool.query('select status, next_attempt_at from delivery where id = any($1::uuid[])', [[f1.id, f2.id, f3.id]]);
    expect(replayed.rows.every((row) => row.status === 'RETRYING' && row.next_attempt_at !== null)).toBe(true);
    await drain(app);
    expect(deliveryIdsSent(receiverA).slice(sentBefore).sort()).toEqual([f1.id, f2.id, f3.id].sort());

    const final = await database.pool.query('select id, status, attempt_count from delivery order by id');
    expect(final.rows).toEqual([
      { id: s1, status: 'SUCCEEDED', attempt_count: 2 },
      { id: f1.id, status: 'SUCCEEDED', attempt_count: 2 },
      { id: f2.id, status: 'SUCCEEDED', attempt_count: 3 },
      { id: f3.id, status: 'SUCCEEDED', attempt_count: 3 },
      { id: g1.id, status: 'FAILED', attempt_count: 1 },
      { id: g2.id, status: 'FAILED', attempt_count: 1 },
    ]);
    expect(deliveryIdsSent(receiverB)).toEqual([g1.id, g2.id]);
    expect((await database.pool.query('select distinct webhook_id from delivery where id = any($1::uuid[])', [[g1.id, g2.id]])).rows).toEqual([{ webhook_id: b.id }]);
  });
});

describe('cancelDelivery', () => {
  const env = environment({ withoutDispatcher: true });

  test('a PENDING delivery is cancelled and never sent, even once a dispatcher runs; finished or unknown ones are refused', async () => {
    const { app, database } = env;
    const receiver = await env.receiver();
    await createWebhook(app.url, { name: 'orders', url: `${receiver.url}/orders`, eventTypes: ['order.*'] });
    const event = await publishEvent(app.url, { type: 'order.created', data: { orderId: 1 } });
    const queued = await deliveryOfEvent(database, event.id);
    expect(queued.status).toBe('PENDING');

    const cancelled = (await graphqlData(app.url, cancelMutation, { id: queued.id })).cancelDelivery;
    expect(cancelled).toEqual({ id: queued.id, status: 'CANCELLED', attemptCount: 0, nextAttemptAt: null });
    expect(await deliveryOfEvent(database, event.id)).toMatchObject({ status: 'CANCELLED', next_attempt_at: null });

    // A dispatching process starts and delivers what is due: the cancelled delivery is not.
    const dispatching = await startTestApp({ databaseUrl: database.url, workerId: 'dispatching' });
    let control: DeliveryRow;
    const controlEvent = await publishEvent(app.url, { type: 'order.created', data: { orderId: 2 } });
    try {
      await waitFor(async () => (await deliveryOfEvent(database, controlEvent.id)).status === 'SUCCEEDED', { description: 'the control delivery' });
      await dispatching.dispatcher.whenIdle();
      control = await deliveryOfEvent(database, controlEvent.id);
    } finally {
      await dispatching.stop();
    }
    expect(deliveryIdsSent(receiver)).toEqual([control.id]);
    expect(await deliveryOfEvent(database, event.id)).toMatchObject({ status: 'CANCELLED', attempt_count: 0 });
    expect(await count(database, 'select count(*) from attempt where delivery_id = $1', [queued.id])).toBe(0);

    // Finished: refused, and left as it was.
    const conflict = await graphql(app.url, cancelMutation, { id: control.id });
    expectError(conflict, 'CONFLICT');
    expect((await deliveryOfEvent(database, controlEvent.id)).status).toBe('SUCCEEDED');
    expectError(await graphql(app.url, cancelMutation, { id: queued.id }), 'CONFLICT');

    expectError(await graphql(app.url, cancelMutation, { id: uuidv7() }), 'NOT_FOUND');
  });

  test('a RETRYING delivery can be cancelled; a FAILED one cannot, and stays in the dead-letter queue, replayable', async () => {
    const { app, database } = env;
    const retryingReceiver = await env.receiver({ status: 503, body: 'busy' });
    const failingReceiver = await env.receiver({ status: 500, body: 'down' });
    const r = await createWebhook(app.url, { name: 'r', url: `${retryingReceiver.url}/r`, eventTypes: ['invoice.*'], retryScheduleSeconds: [600] });
    const f = await createWebhook(app.url, { name: 'f', url: `${failingReceiver.url}/f`, eventTypes: ['refund.*'], retryScheduleSeconds: [] });
    const invoice = await publishEvent(app.url, { type: 'invoice.paid', data: {} });
    const refund = await publishEvent(app.url, { type: 'refund.issued', data: {} });
    await drain(app);
    const retrying = await deliveryOfEvent(database, invoice.id);
    const failed = await deliveryOfEvent(database, refund.id);
    expect(retrying).toMatchObject({ status: 'RETRYING', attempt_count: 1 });
    expect(failed).toMatchObject({ status: 'FAILED', attempt_count: 1 });

    expect((await graphqlData(app.url, cancelMutation, { id: retrying.id })).cancelDelivery).toEqual({
      id: retrying.id,
      status: 'CANCELLED',
      attemptCount: 1,
      nextAttemptAt: null,
    });
    expectError(await graphql(app.url, cancelMutation, { id: failed.id }), 'CONFLICT');
    expect(await deliveryOfEvent(database, refund.id)).toMatchObject({ status: 'FAILED', attempt_count: 1 });

    // The dead-letter queue: FAILED deliveries, with what went wrong.
    const deadLetters = await graphqlData(
      app.url,
      `query ($filter: DeliveryFilter) { deliveries(filter: $filter) { nodes { id webhookId status attempts { number success responseStatus error } } } }`,
      { filter: { status: 'FAILED' } },
    );
    expect(deadLetters.deliveries.nodes).toEqual([
      { id: failed.id, webhookId: f.id, status: 'FAILED', attempts: [{ number: 1, success: false, responseStatus: 500, error: 'HTTP 500' }] },
    ]);

    // Both go out again when replayed, once their receivers are back.
    failingReceiver.setScript(() => ({ status: 200 }));
    retryingReceiver.setScript(() => ({ status: 200 }));
    expect(await replay(app, { webhookId: f.id })).toBe(1);
    expect(await replay(app, { webhookId: r.id, statuses: ['CANCELLED'] })).toBe(1);
    await drain(app);
    expect(await deliveryOfEvent(database, refund.id)).toMatchObject({ status: 'SUCCEEDED', attempt_count: 2 });
    expect(await deliveryOfEvent(database, invoice.id)).toMatchObject({ status: 'SUCCEEDED', attempt_count: 2 });
    expect(deliveryIdsSent(failingReceiver)).toEqual([failed.id, failed.id]);
    expect(deliveryIdsSent(retryingReceiver)).toEqual([retrying.id, retrying.id]);
  });
});

// ---------------------------------------------------------------------------------------------

async function rowCounts(database: TestDatabase) {
  return {
    events: await count(database, 'select count(*) from event'),
    deliveries: await count(database, 'select count(*) from delivery'),
    attempts: await count(database, 'select count(*) from attempt'),
  };
}

describe('retention', () => {
  const env = environment({ withoutDispatcher: true });

  test('events past retention go with their deliveries and attempts; an event with open work stays', async () => {
    const { app, database } = env;
    const okReceiver = await env.receiver();
    const failingReceiver = await env.receiver({ status: 500 });
    await createWebhook(app.url, { name: 'orders', url: `${okReceiver.url}/orders`, eventTypes: ['order.*'] });
    await createWebhook(app.url, { name: 'invoices', url: `${failingReceiver.url}/invoices`, eventTypes: ['invoice.*'], retryScheduleSeconds: [] });
    const parcels = await createWebhook(app.url, { name: 'parcels', url: `${okReceiver.url}/parcels`, eventTypes: ['parcel.*'] });

    // The parcel delivery is queued, then its webhook stops: it waits, unsent.
    const parcel = await publishEvent(app.url, { type: 'parcel.shipped', data: {} });
    await graphqlData(app.url, 'mutation ($id: ID!) { stopWebhook(id: $id) { id } }', { id: parcels.id });
    const finished = [
      await publishEvent(app.url, { type: 'order.created', data: {} }),
      await publishEvent(app.url, { type: 'order.paid', data: {} }),
      await publishEvent(app.url, { type: 'invoice.paid', data: {} }),
    ];
    await drain(app);
    const statuses = await database.pool.query('select status from delivery order by id');
    expect(statuses.rows.map((row) => row.status)).toEqual(['PENDING', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    expect(await rowCounts(database)).toEqual({ events: 4, deliveries: 4, attempts: 3 });

    // Nothing is old yet.
    expect(await app.sweeps.retention.run()).toBe(0);
    expect(await rowCounts(database)).toEqual({ events: 4, deliveries: 4, attempts: 3 });

    // 31 days on, the finished events are past the 30 days kept.
    expect(await app.sweeps.retention.run(new Date(Date.now() + 31 * day))).toBe(3);
    expect(await rowCounts(database)).toEqual({ events: 1, deliveries: 1, attempts: 0 });
    expect((await database.pool.query('select id from event')).rows).toEqual([{ id: parcel.id }]);
    expect((await database.pool.query('select status from delivery')).rows).toEqual([{ status: 'PENDING' }]);
    for (const event of finished) {
      expect((await graphqlData(app.url, 'query ($id: ID!) { event(id: $id) { id } }', { id: event.id })).event).toBeNull();
    }
  });
});

describe('retention in batches', () => {
  const env = environment({ withoutDispatcher: true });

  test('more events than one batch are all purged, and the sweep says how many', async () => {
    const { app, database } = env;
    const receiver = await env.receiver();
    await createWebhook(app.url, { name: 'orders', url: receiver.url, eventTypes: ['order.*'] });
    const publish = async (type: string, total: number) => {
      const inputs = Array.from({ length: total }, (_, index) => ({ type, data: { n: index } }));
      return (await graphqlData(app.url, publishEventsMutation, { inputs })).publishEvents as { id: string }[];
    };
    // 700 events no webhook wants (no deliveries), 500 whose deliveries were cancelled, 1 still queued.
    await publish('audit.tick', 700);
    await publish('order.bulk', 500);
    await database.pool.query(`update delivery set status = 'CANCELLED', next_attempt_at = null`);
    const [open] = await publish('order.open', 1);
    expect(await rowCounts(database)).toEqual({ events: 1201, deliveries: 501, attempts: 0 });

    expect(await app.sweeps.retention.run()).toBe(0);
    expect(await app.sweeps.retention.run(new Date(Date.now() + 31 * day))).toBe(1200);
    expect(await rowCounts(database)).toEqual({ events: 1, deliveries: 1, attempts: 0 });
    expect((await database.pool.query('select id from event')).rows).toEqual([{ id: open!.id }]);
    expect(await app.sweeps.retention.run(new Date(Date.now() + 31 * day))).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Ordering

interface Step {
  kind: 'arrive' | 'answer';
  messageId: string;
  status: string;
  responseStatus?: number;
}

/**
 * A receiver for message status events that logs, in order, when each request arrived and when
 * it was answered, and how many different messages were in flight at once. `decide` picks the
 * answer and may hold it back until a promise settles; every answer also waits 0–30 ms.
 */
async function startOrderingReceiver(decide: (messageId: string, status: string) => { status: number; holdUntil?: Promise<unknown> }) {
  const steps: Step[] = [];
  const inFlight = new Map<string, number>();
  let mostMessagesInFlight = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { messageId: string; status: string } };
      const { messageId, status } = data;
      steps.push({ kind: 'arrive', messageId, status });
      inFlight.set(messageId, (inFlight.get(messageId) ?? 0) + 1);
      mostMessagesInFlight = Math.max(mostMessagesInFlight, inFlight.size);
      const answer = decide(messageId, status);
      await answer.holdUntil;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 31)));
      steps.push({ kind: 'answer', messageId, status, responseStatus: answer.status });
      const left = inFlight.get(messageId)! - 1;
      if (left > 0) inFlight.set(messageId, left);
      else inFlight.delete(messageId);
      response.writeHead(answer.status);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    steps,
    get mostMessagesInFlight() {
      return mostMessagesInFlight;
    },
    /** What happened to one message, as "arrive sent", "answer sent 200", ... */
    historyOf(messageId: string): string[] {
      return steps
        .filter((step) => step.messageId === messageId)
        .map((step) => (step.kind === 'arrive' ? `arrive ${step.status}` : `answer ${step.status} ${step.responseStatus}`));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('ordering keys', () => {
  // No scheduler: its once-a-second tick would hide a dispatcher that does not move on to the
  // next delivery of a key by itself once the one before it is done.
  const env = environment({ withoutDispatcher: false, withoutScheduler: true });
  const receivers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  const statuses = ['sent', 'delivered', 'seen'];

  /** 15 events, interleaved: every message's sent, then every message's delivered, then seen. */
  async function publishStatuses(channel: string, messageIds: string[]): Promise<void> {
    const inputs = statuses.flatMap((status) => messageIds.map((messageId) => ({ type: 'message.status', channel, data: { messageId, status } })));
    await graphqlData(env.app.url, publishEventsMutation, { inputs });
  }

  async function waitForAllSucceeded(webhookId: string, total: number): Promise<void> {
    await waitFor(async () => (await count(env.database, `select count(*) from delivery where webhook_id = $1 and status = 'SUCCEEDED'`, [webhookId])) === total, {
      timeoutMs: 30_000,
      description: `${total} deliveries to succeed`,
    });
  }

  const inOrder = ['arrive sent', 'answer sent 200', 'arrive delivered', 'answer delivered 200', 'arrive seen', 'answer seen 200'];

  test('deliveries with the same key go one after another, in publish order; different keys go in parallel', async () => {
    const receiver = await startOrderingReceiver(() => ({ status: 200 }));
    receivers.push(receiver);
    const webhook = await createWebhook(env.app.url, {
      name: 'statuses',
      url: receiver.url,
      eventTypes: ['message.status'],
      channels: ['sms'],
      orderingKey: 'data.messageId',
      retryScheduleSeconds: [1],
    });
    const stored = await graphqlData(env.app.url, 'query ($id: ID!) { webhook(id: $id) { orderingKey } }', { id: webhook.id });
    expect(stored.webhook.orderingKey).toBe('data.messageId');
    const messageIds = ['sms-1', 'sms-2', 'sms-3', 'sms-4', 'sms-5'];

    await publishStatuses('sms', messageIds);
    await waitForAllSucceeded(webhook.id, 15);

    for (const messageId of messageIds) expect(receiver.historyOf(messageId)).toEqual(inOrder);
    expect(receiver.mostMessagesInFlight).toBeGreaterThanOrEqual(2);
  });

  test('a failed delivery holds back the later ones of its key until it succeeds, and only those', async () => {
    const messageIds = ['viber-1', 'viber-2', 'viber-3', 'viber-4', 'viber-5'];
    const others = messageIds.slice(1);
    let firstSentAttempts = 0;
    // The retry of viber-1's sent is answered only once the other messages are through (or after
    // 5 s): if they were held back behind viber-1, they would not be through before it succeeded.
    const othersThrough = () => others.every((messageId) => receiver.historyOf(messageId).includes('answer seen 200'));
    const receiver = await startOrderingReceiver((messageId, status) => {
      if (messageId !== 'viber-1' || status !== 'sent') return { status: 200 };
      firstSentAttempts += 1;
      if (firstSentAttempts === 1) return { status: 500 };
      return { status: 200, holdUntil: waitFor(othersThrough, { timeoutMs: 5_000 }).catch(() => undefined) };
    });
    receivers.push(receiver);
    const webhook = await createWebhook(env.app.url, {
      name: 'viber statuses',
      url: receiver.url,
      eventTypes: ['message.status'],
      channels: ['viber'],
      orderingKey: 'data.messageId',
      retryScheduleSeconds: [1],
    });

    await publishStatuses('viber', messageIds);
    await waitForAllSucceeded(webhook.id, 15);

    expect(receiver.historyOf('viber-1')).toEqual(['arrive sent', 'answer sent 500', ...inOrder]);
    for (const messageId of others) expect(receiver.historyOf(messageId)).toEqual(inOrder);
    const firstSuccess = receiver.steps.findIndex((step) => step.messageId === 'viber-1' && step.kind === 'answer' && step.responseStatus === 200);
    for (const messageId of others) {
      const seen = receiver.steps.findIndex((step) => step.messageId === messageId && step.kind === 'answer' && step.status === 'seen');
      expect(seen).toBeLessThan(firstSuccess);
    }
    const attempts = await env.database.pool.query(
      `select d.attempt_count from delivery d join event e on e.id = d.event_id
       where d.webhook_id = $1 and e.data->>'messageId' = 'viber-1' and e.data->>'status' = 'sent'`,
      [webhook.id],
    );
    expect(attempts.rows).toEqual([{ attempt_count: 2 }]);
  });
});
