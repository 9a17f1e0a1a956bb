/**
 * Publishing events (matching, idempotency, refusing bad input) and reading back events,
 * deliveries and attempts (filters, pagination, retryDelivery). Each test runs on its own
 * database, so counts of stored rows are exact.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { v7 as uuidv7 } from 'uuid';
import type { Hookline } from '../src/server/hookline.js';
import { startTestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createWebhook, graphql, graphqlData, publishEvent, type GraphQLResult } from './support/graphql.js';
import type { Answer, ReceivedRequest, Receiver } from './support/receiver.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';

const publishManyMutation = `mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id type channel idempotencyKey } }`;
const publishOneMutation = `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { id type idempotencyKey } }`;
const deliveriesQuery = `query ($filter: DeliveryFilter, $first: Int, $after: String) {
  deliveries(filter: $filter, first: $first, after: $after) {
    nodes { id eventId webhookId eventType status createdAt }
    pageInfo { hasNextPage endCursor } } }`;
const attemptsQuery = `query ($filter: AttemptFilter, $first: Int, $after: String) {
  deliveryAttempts(filter: $filter, first: $first, after: $after) {
    nodes { id deliveryId webhookId eventId number success responseStatus error requestMethod requestUrl }
    pageInfo { hasNextPage endCursor } } }`;
const retryMutation = `mutation ($id: ID!) { retryDelivery(id: $id) { id status attemptCount nextAttemptAt } }`;

// What each test starts is released after it (apps before their receivers and databases).
const resources = trackTestResources('each');

function newDatabase(): Promise<TestDatabase> {
  return resources.newDatabase();
}

/** `withoutDispatcher`: an API-only app, so published deliveries stay queued unless the test drives its dispatcher. */
function startApp(database: TestDatabase, options: { withoutDispatcher?: boolean } = {}): Promise<Hookline> {
  return resources.newApp({ databaseUrl: database.url, ...options });
}

function newReceiver(fallback?: Answer): Promise<Receiver> {
  return resources.newReceiver(fallback);
}

// ---- Small helpers ----

function expectError(result: GraphQLResult, code: string, field?: string): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions?.code).toBe(code);
  if (field !== undefined) expect(result.errors![0]!.extensions?.['field']).toBe(field);
  expect(result.data ?? null).toBeNull();
}

async function count(database: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await database.pool.query(sql, params)).rows[0].count);
}

async function rowCounts(database: TestDatabase) {
  return { events: await count(database, 'select count(*) from event'), deliveries: await count(database, 'select count(*) from delivery') };
}

/** Lets a dispatcher claim and finish everything that is due right now. */
async function drain(app: Hookline): Promise<void> {
  await app.dispatcher.runOnce();
  await app.dispatcher.whenIdle();
}

function eventIdOf(request: ReceivedRequest): string {
  return (JSON.parse(request.body) as { id: string }).id;
}

async function deliveries(app: Hookline, filter: Record<string, unknown>, first?: number): Promise<any[]> {
  return (await graphqlData(app.url, deliveriesQuery, { filter, first })).deliveries.nodes;
}

describe('publishing', () => {
  test('each event reaches exactly the webhooks whose event types, channels and statuses want it', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const receiver = await newReceiver();
    const hook = async (path: string, filter: Record<string, unknown>) =>
      (await createWebhook(app.url, { name: path, url: `${receiver.url}/${path}`, ...filter })).id as string;
    const webhooks = {
      exactStatus: await hook('exact-status', { eventTypes: ['message.status'] }),
      messageFamily: await hook('message-family', { eventTypes: ['message.*'] }),
      everything: await hook('everything', { eventTypes: ['*'] }),
      contacts: await hook('contacts', { eventTypes: ['contact.updated'] }),
      viberOnly: await hook('viber-only', { eventTypes: ['*'], channels: ['viber'] }),
      blacklistedOnly: await hook('blacklisted-only', { eventTypes: ['message.status'], statuses: ['blacklisted'] }),
    };

    const smsDelivered = (await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: { status: 'delivered' } })).id;
    const viberBlacklisted = (await publishEvent(app.url, { type: 'message.status', channel: 'viber', data: { status: 'blacklisted' } })).id;
    const smsReceived = (await publishEvent(app.url, { type: 'message.received', channel: 'sms', data: { text: 'hi' } })).id;
    const contactUpdated = (await publishEvent(app.url, { type: 'contact.updated', data: { contact: { name: 'Ada' } } })).id;

    const expected: Record<keyof typeof webhooks, string[]> = {
      exactStatus: [smsDelivered, viberBlacklisted],
      messageFamily: [smsDelivered, viberBlacklisted, smsReceived],
      everything: [smsDelivered, viberBlacklisted, smsReceived, contactUpdated],
      contacts: [contactUpdated],
      viberOnly: [viberBlacklisted],
      blacklistedOnly: [viberBlacklisted],
    };
    const total = Object.values(expected).flat().length;

    // The stored deliveries, per webhook.
    const { rows } = await database.pool.query('select webhook_id, event_id from delivery');
    expect(rows).toHaveLength(total);
    for (const [name, id] of Object.entries(webhooks) as [keyof typeof webhooks, string][]) {
      const stored = rows.filter((row) => row.webhook_id === id).map((row) => row.event_id);
      expect({ webhook: name, events: stored.sort() }).toEqual({ webhook: name, events: [...expected[name]].sort() });
    }

    // And what went over the wire, per webhook URL.
    await waitFor(async () => (await count(database, `select count(*) from delivery where status = 'SUCCEEDED'`)) === total, { description: 'every delivery SUCCEEDED' });
    await drain(app);
    expect(receiver.requests).toHaveLength(total);
    const paths: Record<keyof typeof webhooks, string> = {
      exactStatus: '/exact-status',
      messageFamily: '/message-family',
      everything: '/everything',
      contacts: '/contacts',
      viberOnly: '/viber-only',
      blacklistedOnly: '/blacklisted-only',
    };
    for (const [name, path] of Object.entries(paths) as [keyof typeof webhooks, string][]) {
      const received = receiver.requests.filter((request) => request.url === path).map(eventIdOf);
      expect({ webhook: name, events: received.sort() }).toEqual({ webhook: name, events: [...expected[name]].sort() });
    }
  });

  test('the same idempotency key twice is one event, one set of deliveries and one request', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const receiver = await newReceiver();
    await createWebhook(app.url, { url: `${receiver.url}/once`, eventTypes: ['message.received'] });
    const input = { type: 'message.received', channel: 'sms', data: { text: 'hello' }, idempotencyKey: 'inbound-42' };

    const first = (await graphqlData(app.url, publishOneMutation, { input })).publishEvent;
    const second = (await graphqlData(app.url, publishOneMutation, { input })).publishEvent;

    expect(second.id).toBe(first.id);
    expect(first.idempotencyKey).toBe('inbound-42');
    expect(await rowCounts(database)).toEqual({ events: 1, deliveries: 1 });
    await waitFor(async () => (await count(database, `select count(*) from delivery where status = 'SUCCEEDED'`)) === 1, { description: 'the delivery' });
    await drain(app);
    expect(receiver.requests.map(eventIdOf)).toEqual([first.id]);
  });

  test('in one publishEvents batch a repeated key is one event at both positions; different keys are different events', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const receiver = await newReceiver();
    await createWebhook(app.url, { url: `${receiver.url}/batch`, eventTypes: ['message.*'] });
    const earlier = await publishEvent(app.url, { type: 'message.status', data: { status: 'sent' }, idempotencyKey: 'earlier' });

    const events = (
      await graphqlData(app.url, publishManyMutation, {
        inputs: [
          { type: 'message.status', data: { status: 'delivered' }, idempotencyKey: 'a' },
          { type: 'message.status', data: { status: 'read' }, idempotencyKey: 'b' },
          { type: 'message.status', data: { status: 'delivered' }, idempotencyKey: 'a' },
          { type: 'message.status', data: { status: 'sent' }, idempotencyKey: 'earlier' },
        ],
      })
    ).publishEvents;

    expect(events).toHaveLength(4);
    expect(events[2].id).toBe(events[0].id);
    expect(events[1].id).not.toBe(events[0].id);
    expect(events[3].id).toBe(earlier.id);
    expect(events.map((event: any) => event.idempotencyKey)).toEqual(['a', 'b', 'a', 'earlier']);
    const stored = (await database.pool.query('select id, idempotency_key from event order by idempotency_key')).rows;
    expect(stored).toEqual([
      { id: events[0].id, idempotency_key: 'a' },
      { id: events[1].id, idempotency_key: 'b' },
      { id: earlier.id, idempotency_key: 'earlier' },
    ]);
    expect(await count(database, 'select count(*) from delivery')).toBe(3);

    await waitFor(async () => (await count(database, `select count(*) from delivery where status = 'SUCCEEDED'`)) === 3, { description: 'three deliveries' });
    await drain(app);
    expect(receiver.requests.map(eventIdOf).sort()).toEqual([earlier.id, events[0].id, events[1].id].sort());
  });
});

describe('publishing bad input is refused with BAD_USER_INPUT and stores nothing', () => {
  const valid = { type: 'message.status', channel: 'sms', data: { status: 'delivered' } };
  let database: TestDatabase;
  let app: Hookline;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
    // A webhook that wants everything: a stored event would also store a delivery.
    await createWebhook(app.url, { url: 'http://127.0.0.1:9/all', eventTypes: ['*'] });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  test.each<[string, Record<string, unknown>, string | undefined]>([
    ['an empty type', { type: '' }, 'input.type'],
    ['a blank type', { type: '  ' }, 'input.type'],
    ['a string as data', { data: 'a string' }, 'input.data'],
    ['an array as data', { data: [1, 2] }, 'input.data'],
    // Refused by GraphQL itself (data is JSON!), so there is no field detail.
    ['null as data', { data: null }, undefined],
    ['a javascript: callback URL', { callbackUrl: 'javascript:x' }, 'input.callbackUrl'],
  ])('publishEvent with %s', async (_case, change, field) => {
    const before = await rowCounts(database);
    expectError(await graphql(app.url, publishOneMutation, { input: { ...valid, ...change } }), 'BAD_USER_INPUT', field);
    expect(await rowCounts(database)).toEqual(before);
  });

  test('a batch of three whose third is bad stores none of them; fixed, it stores all three', async () => {
    const before = await rowCounts(database);
    const batch = [
      { ...valid, idempotencyKey: 'one' },
      { ...valid, idempotencyKey: 'two' },
      { ...valid, idempotencyKey: 'three', data: 'not an object' },
    ];

    expectError(await graphql(app.url, publishManyMutation, { inputs: batch }), 'BAD_USER_INPUT', 'inputs[2].data');
    expect(await rowCounts(database)).toEqual(before);

    batch[2] = { ...valid, idempotencyKey: 'three' };
    expect((await graphqlData(app.url, publishManyMutation, { inputs: batch })).publishEvents).toHaveLength(3);
    expect(await rowCounts(database)).toEqual({ events: before.events + 3, deliveries: before.deliveries + 3 });
  });
});

describe('queries', () => {
  test('event, delivery, deliveries and deliveryAttempts find what was stored, by every filter', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const okReceiver = await newReceiver({ status: 200, body: 'thanks' });
    const failingReceiver = await newReceiver({ status: 500, body: 'down' });
    const ok = await createWebhook(app.url, { name: 'ok', url: `${okReceiver.url}/ok`, eventTypes: ['order.*'] });
    const failing = await createWebhook(app.url, { name: 'failing', url: `${failingReceiver.url}/failing`, eventTypes: ['order.*'], retryScheduleSeconds: [] });

    const first = await publishEvent(app.url, { type: 'order.created', channel: 'chat', data: { order: 1 } });
    const firstCreatedAt = (await database.pool.query('select max(created_at) as at from delivery where event_id = $1', [first.id])).rows[0].at;
    // Let the database clock move on, so the two events' deliveries have distinct creation times.
    await waitFor(async () => (await database.pool.query(`select now() > $1::timestamptz + interval '5 milliseconds' as later`, [firstCreatedAt])).rows[0].later);
    const second = await publishEvent(app.url, { type: 'order.paid', channel: 'chat', data: { order: 1, paid: true } });
    await waitFor(
      async () => (await count(database, `select count(*) from delivery where status in ('SUCCEEDED', 'FAILED')`)) === 4,
      { description: 'all four deliveries finished' },
    );
    await drain(app);

    const rowOf = async (eventId: string, webhookId: string) =>
      (await database.pool.query('select id from delivery where event_id = $1 and webhook_id = $2', [eventId, webhookId])).rows[0].id as string;
    const firstOk = await rowOf(first.id, ok.id);
    const firstFailed = await rowOf(first.id, failing.id);
    const secondOk = await rowOf(second.id, ok.id);
    const secondFailed = await rowOf(second.id, failing.id);
    const idsOf = (nodes: any[]) => nodes.map((node) => node.id);

    // event(id) with its deliveries
    const { event } = await graphqlData(app.url, `query ($id: ID!) { event(id: $id) { id type channel data deliveries { id webhookId status attemptCount } } }`, { id: first.id });
    expect(event).toEqual({
      id: first.id,
      type: 'order.created',
      channel: 'chat',
      data: { order: 1 },
      deliveries: expect.arrayContaining([
        { id: firstOk, webhookId: ok.id, status: 'SUCCEEDED', attemptCount: 1 },
        { id: firstFailed, webhookId: failing.id, status: 'FAILED', attemptCount: 1 },
      ]),
    });
    expect(event.deliveries).toHaveLength(2);

    // delivery(id) with its event, webhook and attempts
    const { delivery } = await graphqlData(
      app.url,
      `query ($id: ID!) { delivery(id: $id) { id status attemptCount nextAttemptAt event { id type } webhook { id name }
         attempts { number success responseStatus responseBody requestMethod requestUrl error } } }`,
      { id: firstFailed },
    );
    expect(delivery).toEqual({
      id: firstFailed,
      status: 'FAILED',
      attemptCount: 1,
      nextAttemptAt: null,
      event: { id: first.id, type: 'order.created' },
      webhook: { id: failing.id, name: 'failing' },
      attempts: [{ number: 1, success: false, responseStatus: 500, responseBody: 'down', requestMethod: 'POST', requestUrl: `${failingReceiver.url}/failing`, error: 'HTTP 500' }],
    });

    // deliveries(filter), newest first
    expect(idsOf(await deliveries(app, {}))).toEqual([secondFailed, secondOk, firstFailed, firstOk].sort().reverse());
    expect(idsOf(await deliveries(app, { webhookId: ok.id }))).toEqual([secondOk, firstOk]);
    expect(idsOf(await deliveries(app, { eventId: first.id })).sort()).toEqual([firstOk, firstFailed].sort());
    expect(idsOf(await deliveries(app, { eventType: 'order.paid' })).sort()).toEqual([secondOk, secondFailed].sort());
    expect(await deliveries(app, { eventType: 'order.shipped' })).toEqual([]);
    expect(idsOf(await deliveries(app, { status: 'FAILED' }))).toEqual([secondFailed, firstFailed]);
    expect(idsOf(await deliveries(app, { statuses: ['FAILED', 'PENDING'] }))).toEqual([secondFailed, firstFailed]);
    expect(idsOf(await deliveries(app, { statuses: ['SUCCEEDED', 'FAILED'] }))).toHaveLength(4);
    expect(idsOf(await deliveries(app, { webhookId: failing.id, status: 'SUCCEEDED' }))).toEqual([]);

    // createdAfter / createdBefore: a boundary strictly between the two events' deliveries
    const boundary = (
      await database.pool.query(
        `select to_char(date_trunc('milliseconds', a + (b - a) / 2) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
         from (select max(created_at) filter (where event_id = $1) as a, min(created_at) filter (where event_id = $2) as b from delivery) t`,
        [first.id, second.id],
      )
    ).rows[0].at as string;
    expect(idsOf(await deliveries(app, { createdAfter: boundary })).sort()).toEqual([secondOk, secondFailed].sort());
    expect(idsOf(await deliveries(app, { createdBefore: boundary })).sort()).toEqual([firstOk, firstFailed].sort());
    expect(idsOf(await deliveries(app, { createdAfter: boundary, createdBefore: new Date(Date.now() + 3600_000).toISOString(), webhookId: ok.id }))).toEqual([secondOk]);
    expect(await deliveries(app, { createdBefore: new Date(Date.now() - 3600_000).toISOString() })).toEqual([]);
    // A delivery's createdAt is the millisecond in its id; the bounds hold to the millisecond:
    // createdAfter takes its own moment in, createdBefore leaves it out.
    const { created_at: secondOkCreatedAt } = (await database.pool.query('select created_at from delivery where id = $1', [secondOk])).rows[0];
    expect(secondOkCreatedAt.getTime()).toBe(Number.parseInt(secondOk.replace(/-/g, '').slice(0, 12), 16));
    const exactly = secondOkCreatedAt.toISOString();
    const justAfter = new Date(secondOkCreatedAt.getTime() + 1).toISOString();
    expect(idsOf(await deliveries(app, { webhookId: ok.id, createdAfter: exactly, createdBefore: justAfter }))).toEqual([secondOk]);
    expect(idsOf(await deliveries(app, { webhookId: ok.id, createdAfter: justAfter }))).toEqual([]);
    expect(idsOf(await deliveries(app, { webhookId: ok.id, createdBefore: exactly }))).toEqual([firstOk]);

    // deliveryAttempts(filter)
    const attempts = async (filter: Record<string, unknown>) => (await graphqlData(app.url, attemptsQuery, { filter })).deliveryAttempts.nodes;
    expect(await attempts({ deliveryId: firstOk })).toEqual([
      expect.objectContaining({ deliveryId: firstOk, webhookId: ok.id, eventId: first.id, number: 1, success: true, responseStatus: 200, error: null }),
    ]);
    const failures = await attempts({ success: false });
    expect(failures.map((attempt: any) => attempt.deliveryId)).toEqual([secondFailed, firstFailed]);
    expect(failures.every((attempt: any) => attempt.success === false && attempt.webhookId === failing.id)).toBe(true);
    expect((await attempts({ success: true })).map((attempt: any) => attempt.deliveryId).sort()).toEqual([firstOk, secondOk].sort());

    // Unknown ids are null, not errors.
    const lookUp = `query ($id: ID!) { event(id: $id) { id } delivery(id: $id) { id } }`;
    expect(await graphql(app.url, lookUp, { id: uuidv7() })).toEqual({ data: { event: null, delivery: null } });
    expect(await graphql(app.url, lookUp, { id: 'nope' })).toEqual({ data: { event: null, delivery: null } });

    // Malformed cursors and page sizes out of range are refused.
    expectError(await graphql(app.url, deliveriesQuery, { after: 'not-a-cursor' }), 'BAD_USER_INPUT', 'after');
    expectError(await graphql(app.url, attemptsQuery, { after: 'not-a-cursor' }), 'BAD_USER_INPUT', 'after');
    expectError(await graphql(app.url, deliveriesQuery, { first: 0 }), 'BAD_USER_INPUT', 'first');
    expectError(await graphql(app.url, deliveriesQuery, { first: 501 }), 'BAD_USER_INPUT', 'first');
    expectError(await graphql(app.url, attemptsQuery, { first: 0 }), 'BAD_USER_INPUT', 'first');
    expectError(await graphql(app.url, attemptsQuery, { first: 501 }), 'BAD_USER_INPUT', 'first');
    expect(await deliveries(app, {}, 500)).toHaveLength(4);
  });

  test('paging through deliveries returns every one exactly once, newest first, while new ones arrive', async () => {
    const database = await newDatabase();
    // No dispatcher: the deliveries stay as published.
    const app = await startApp(database, { withoutDispatcher: true });
    const webhook = await createWebhook(app.url, { url: 'http://127.0.0.1:9/pages', eventTypes: ['message.status'] });
    const batch = (size: number, from: number) => Array.from({ length: size }, (_, index) => ({ type: 'message.status', data: { status: 'sent', n: from + index } }));
    for (let round = 0; round < 3; round++) await graphqlData(app.url, publishManyMutation, { inputs: batch(15, round * 15) });
    const original = (await database.pool.query('select id from delivery where webhook_id = $1 order by created_at desc, id desc', [webhook.id])).rows.map((row) => row.id as string);
    expect(original).toHaveLength(45);

    const collected: any[] = [];
    const pageSizes: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const connection: any = (await graphqlData(app.url, deliveriesQuery, { filter: { webhookId: webhook.id }, first: 7, after })).deliveries;
      collected.push(...connection.nodes);
      pageSizes.push(connection.nodes.length);
      if (page === 0) await graphqlData(app.url, publishManyMutation, { inputs: batch(5, 45) });
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }

    expect(pageSizes).toEqual([7, 7, 7, 7, 7, 7, 3]);
    const ids = collected.map((node) => node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(original);
    const createdAt = collected.map((node) => Date.parse(node.createdAt));
    expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
    // The five published meanwhile exist, and are newer than everything paged.
    expect(await count(database, 'select count(*) from delivery where webhook_id = $1', [webhook.id])).toBe(50);
    expect((await deliveries(app, { webhookId: webhook.id }, 5)).every((node) => !ids.includes(node.id))).toBe(true);
  });

  test('retryDelivery gives a FAILED delivery one more attempt', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    receiver.queue({ status: 500, body: 'not now' });
    const webhook = await createWebhook(api.url, { url: `${receiver.url}/retry`, eventTypes: ['message.status'], retryScheduleSeconds: [] });
    const event = await publishEvent(api.url, { type: 'message.status', channel: 'sms', data: { status: 'delivered' } });
    const deliveryId = (await database.pool.query('select id from delivery where event_id = $1', [event.id])).rows[0].id as string;

    // This test drives the API-only app's dispatcher itself, so nothing moves behind its back.
    await drain(api);
    const statusQuery = `query ($id: ID!) { delivery(id: $id) { status attemptCount nextAttemptAt attempts { number success responseStatus } } }`;
    expect((await graphqlData(api.url, statusQuery, { id: deliveryId })).delivery).toEqual({
      status: 'FAILED',
      attemptCount: 1,
      nextAttemptAt: null,
      attempts: [{ number: 1, success: false, responseStatus: 500 }],
    });

    const { retryDelivery } = await graphqlData(api.url, retryMutation, { id: deliveryId });
    expect(retryDelivery).toMatchObject({ id: deliveryId, status: 'RETRYING', attemptCount: 1 });
    expect(Date.parse(retryDelivery.nextAttemptAt)).toBeLessThanOrEqual(Date.now() + 1000);

    // A running dispatcher takes it from here.
    await startApp(database);
    await waitFor(async () => (await graphqlData(api.url, statusQuery, { id: deliveryId })).delivery.status === 'SUCCEEDED', { description: 'the retried delivery SUCCEEDED' });
    expect((await graphqlData(api.url, statusQuery, { id: deliveryId })).delivery).toEqual({
      status: 'SUCCEEDED',
      attemptCount: 2,
      nextAttemptAt: null,
      attempts: [
        { number: 1, success: false, responseStatus: 500 },
        { number: 2, success: true, responseStatus: 200 },
      ],
    });
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([deliveryId, deliveryId]);
    for (const request of receiver.requests) new Webhook(webhook.secret).verify(request.body, request.headers as Record<string, string>);

    expectError(await graphql(api.url, retryMutation, { id: uuidv7() }), 'NOT_FOUND');
    expectError(await graphql(api.url, retryMutation, { id: 'nope' }), 'NOT_FOUND');
  });
});
