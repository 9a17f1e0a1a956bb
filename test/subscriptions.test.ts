/**
 * Live delivery updates: `deliveryUpdated` over graphql-ws. Every status change is committed
 * with a NOTIFY, heard by every server process on the database and handed to its subscribers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { createWebhook, publishEvent, subscribe, webSocketClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import type { Hookline } from '../src/server/hookline.js';

const deliveryUpdatedSubscription = `subscription ($webhookId: ID, $eventType: String) {
  deliveryUpdated(webhookId: $webhookId, eventType: $eventType) {
    id eventId webhookId eventType status attemptCount nextAttemptAt lastAttemptAt updatedAt
    event { id type data }
    webhook { id name }
    attempts { number success responseStatus }
  }
}`;

interface DeliveryUpdate {
  id: string;
  eventId: string;
  webhookId: string | null;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  updatedAt: string;
  event: { id: string; type: string; data: Record<string, unknown> };
  webhook: { id: string; name: string } | null;
  attempts: { number: number; success: boolean; responseStatus: number | null }[];
}

type LiveSubscription = ReturnType<typeof subscribe<{ deliveryUpdated: DeliveryUpdate }>>;

const clients: Client[] = [];

function updates(subscription: LiveSubscription): DeliveryUpdate[] {
  return subscription.received.map((message) => message.deliveryUpdated);
}

function updatesOfEvent(subscription: LiveSubscription, eventId: string): DeliveryUpdate[] {
  return updates(subscription).filter((update) => update.eventId === eventId);
}

/**
 * Subscribes on `url` and returns once the server has registered the subscription: a probe
 * event (which the subscription's filter accepts) is published until one of its updates
 * arrives. Probe updates stay in `received`; tests look at their own events' updates only.
 */
async function subscribeWhenActive(
  url: string,
  variables: Record<string, unknown>,
  publishProbe: () => Promise<{ id: string }>,
): Promise<LiveSubscription> {
  const [subscription] = await subscribeAllWhenActive(url, [variables], publishProbe);
  return subscription!;
}

async function subscribeAllWhenActive(
  url: string,
  variablesList: Record<string, unknown>[],
  publishProbe: () => Promise<{ id: string }>,
): Promise<LiveSubscription[]> {
  const client = webSocketClient(url);
  clients.push(client);
  const subscriptions = variablesList.map((variables) => subscribe<{ deliveryUpdated: DeliveryUpdate }>(client, deliveryUpdatedSubscription, variables));
  const probeIds = new Set<string>();
  const allActive = () => subscriptions.every((subscription) => updates(subscription).some((update) => probeIds.has(update.eventId)));
  await waitFor(
    async () => {
      probeIds.add((await publishProbe()).id);
      // A probe sent before the subscription was registered is lost: give this one a while, then send another.
      return waitFor(allActive, { timeoutMs: 2_000, description: 'a probe update' }).catch(() => false);
    },
    { timeoutMs: 30_000, description: 'the subscriptions to become active' },
  );
  for (const subscription of subscriptions) expect(subscription.errors).toEqual([]);
  return subscriptions;
}

/** A receiver that holds every request until `release()`, so a test can look while an attempt is in flight. */
async function startHoldingReceiver() {
  const held: http.ServerResponse[] = [];
  let released = false;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (released) response.end('ok');
      else held.push(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    release() {
      released = true;
      for (const response of held.splice(0)) response.end('ok');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Closes the websocket clients (before their server stops). */
async function disposeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
}

describe('deliveryUpdated on one server', () => {
  let database: TestDatabase;
  let app: Hookline;
  const receivers: Receiver[] = [];
  let okReceiver: Receiver;
  const publishProbe = () => publishEvent(app.url, { type: 'probe.ping', data: {} });

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startTestApp({ databaseUrl: database.url });
    okReceiver = await startReceiver();
    receivers.push(okReceiver);
    // Probes go to their own webhook, so the tests' webhooks see only their own events.
    await createWebhook(app.url, { name: 'probe', url: `${okReceiver.url}/probe`, eventTypes: ['probe.*'] });
  });

  afterAll(async () => {
    await disposeClients();
    await app?.stop();
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await database?.drop();
  });

  test('a subscriber sees PENDING, SENDING, SUCCEEDED in order, with the event, webhook and attempt', async () => {
    const webhook = await createWebhook(app.url, { name: 'orders', url: `${okReceiver.url}/orders`, eventTypes: ['order.*'], retryScheduleSeconds: [1] });
    const subscription = await subscribeWhenActive(app.url, {}, publishProbe);

    const event = await publishEvent(app.url, { type: 'order.created', channel: 'sms', data: { orderId: 42 } });
    await waitFor(() => updatesOfEvent(subscription, event.id).some((update) => update.status === 'SUCCEEDED'), { description: 'SUCCEEDED' });

    const seen = updatesOfEvent(subscription, event.id);
    expect(seen.map((update) => update.status)).toEqual(['PENDING', 'SENDING', 'SUCCEEDED']);
    expect(new Set(seen.map((update) => update.id)).size).toBe(1);
    const [pending, sending, succeeded] = seen as [DeliveryUpdate, DeliveryUpdate, DeliveryUpdate];
    for (const update of seen) {
      expect(update).toMatchObject({
        webhookId: webhook.id,
        eventType: 'order.created',
        event: { id: event.id, type: 'order.created', data: { orderId: 42 } },
        webhook: { id: webhook.id, name: 'orders' },
      });
    }
    expect(pending).toMatchObject({ attemptCount: 0, attempts: [], lastAttemptAt: null });
    expect(sending).toMatchObject({ attemptCount: 0, attempts: [] });
    expect(succeeded).toMatchObject({ attemptCount: 1, nextAttemptAt: null, attempts: [{ number: 1, success: true, responseStatus: 200 }] });
    expect(succeeded.lastAttemptAt).not.toBeNull();
    expect(subscription.errors).toEqual([]);

    const stored = await database.pool.query('select status, attempt_count from delivery where id = $1', [succeeded.id]);
    expect(stored.rows).toEqual([{ status: 'SUCCEEDED', attempt_count: 1 }]);
  });

  test('a failing then recovering receiver shows PENDING, SENDING, RETRYING, SENDING, SUCCEEDED', async () => {
    const flaky = await startReceiver();
    receivers.push(flaky);
    flaky.queue({ status: 500, body: 'down' });
    const webhook = await createWebhook(app.url, { name: 'invoices', url: `${flaky.url}/invoices`, eventTypes: ['invoice.*'], retryScheduleSeconds: [1] });
    const subscription = await subscribeWhenActive(app.url, {}, publishProbe);

    const event = await publishEvent(app.url, { type: 'invoice.paid', data: { amount: 10 } });
    await waitFor(() => updatesOfEvent(subscription, event.id).some((update) => update.status === 'SUCCEEDED'), { description: 'SUCCEEDED' });

    const seen = updatesOfEvent(subscription, event.id);
    expect(seen.map((update) => update.status)).toEqual(['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'SUCCEEDED']);
    expect(seen.every((update) => update.webhookId === webhook.id)).toBe(true);
    const [, firstSending, retrying, secondSending, succeeded] = seen as [DeliveryUpdate, DeliveryUpdate, DeliveryUpdate, DeliveryUpdate, DeliveryUpdate];

    expect(firstSending.attemptCount).toBe(0);
    expect(retrying).toMatchObject({ attemptCount: 1, attempts: [{ number: 1, success: false, responseStatus: 500 }] });
    expect(retrying.nextAttemptAt).not.toBeNull();
    expect(retrying.lastAttemptAt).not.toBeNull();
    // Schedule [1] with ±20% jitter: the retry is due at least 0.8 s after the first attempt started.
    expect(Date.parse(retrying.nextAttemptAt!) - Date.parse(retrying.lastAttemptAt!)).toBeGreaterThanOrEqual(800);
    // The retry was not claimed before it was due.
    expect(Date.parse(secondSending.updatedAt)).toBeGreaterThanOrEqual(Date.parse(retrying.nextAttemptAt!));
    expect(secondSending.attemptCount).toBe(1);
    expect(succeeded).toMatchObject({
      attemptCount: 2,
      nextAttemptAt: null,
      attempts: [
        { number: 1, success: false, responseStatus: 500 },
        { number: 2, success: true, responseStatus: 200 },
      ],
    });
    expect(flaky.requests).toHaveLength(2);
    expect(subscription.errors).toEqual([]);
  });

  test('FAILED is sent when the retry schedule is used up', async () => {
    const broken = await startReceiver({ status: 500, body: 'broken' });
    receivers.push(broken);
    const webhook = await createWebhook(app.url, { name: 'payments', url: `${broken.url}/payments`, eventTypes: ['payment.*'], retryScheduleSeconds: [] });
    const subscription = await subscribeWhenActive(app.url, {}, publishProbe);

    const event = await publishEvent(app.url, { type: 'payment.failed', data: { reason: 'card' } });
    await waitFor(() => updatesOfEvent(subscription, event.id).some((update) => update.status === 'FAILED'), { description: 'FAILED' });

    const seen = updatesOfEvent(subscription, event.id);
    expect(seen.map((update) => update.status)).toEqual(['PENDING', 'SENDING', 'FAILED']);
    expect(seen.at(-1)).toMatchObject({
      webhookId: webhook.id,
      attemptCount: 1,
      nextAttemptAt: null,
      attempts: [{ number: 1, success: false, responseStatus: 500 }],
    });
    expect(broken.requests).toHaveLength(1);
    expect(subscription.errors).toEqual([]);
  });

  test('filters: by webhook, by event type family, and none for everything', async () => {
    const webhookA = await createWebhook(app.url, { name: 'A', url: `${okReceiver.url}/a`, eventTypes: ['message.*', 'contact.*'] });
    const webhookB = await createWebhook(app.url, { name: 'B', url: `${okReceiver.url}/b`, eventTypes: ['message.*', 'contact.*'] });
    // A message.* probe reaches A and B, so every one of the three filters accepts it.
    const [onlyA, onlyMessages, everything] = (await subscribeAllWhenActive(
      app.url,
      [{ webhookId: webhookA.id }, { eventType: 'message.*' }, {}],
      () => publishEvent(app.url, { type: 'message.probe', data: {} }),
    )) as [LiveSubscription, LiveSubscription, LiveSubscription];

    const message = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: { status: 'delivered' } });
    const contact = await publishEvent(app.url, { type: 'contact.updated', data: { name: 'Ada' } });
    const succeededFor = (subscription: LiveSubscription, eventId: string, webhookId: string) =>
      updatesOfEvent(subscription, eventId).some((update) => update.webhookId === webhookId && update.status === 'SUCCEEDED');
    await waitFor(
      () => [message, contact].every((event) => [webhookA, webhookB].every((webhook) => succeededFor(everything, event.id, webhook.id))),
      { description: 'all four deliveries to succeed' },
    );
    // Each subscription gets its updates in order: once a later event's update has arrived,
    // anything earlier that the filter let through has arrived too.
    const sentinel = await publishEvent(app.url, { type: 'message.sentinel', data: {} });
    await waitFor(() => [onlyA, onlyMessages, everything].every((subscription) => succeededFor(subscription, sentinel.id, webhookA.id)), {
      description: 'the sentinel on every subscription',
    });

    const statusesOf = (subscription: LiveSubscription, eventId: string, webhookId: string) =>
      updatesOfEvent(subscription, eventId)
        .filter((update) => update.webhookId === webhookId)
        .map((update) => update.status);
    const lifecycle = ['PENDING', 'SENDING', 'SUCCEEDED'];

    expect(updates(onlyA).every((update) => update.webhookId === webhookA.id)).toBe(true);
    expect(statusesOf(onlyA, message.id, webhookA.id)).toEqual(lifecycle);
    expect(statusesOf(onlyA, contact.id, webhookA.id)).toEqual(lifecycle);

    expect(updates(onlyMessages).every((update) => update.eventType.startsWith('message.'))).toBe(true);
    expect(updatesOfEvent(onlyMessages, contact.id)).toEqual([]);
    expect(statusesOf(onlyMessages, message.id, webhookA.id)).toEqual(lifecycle);
    expect(statusesOf(onlyMessages, message.id, webhookB.id)).toEqual(lifecycle);

    for (const event of [message, contact]) {
      for (const webhook of [webhookA, webhookB]) expect(statusesOf(everything, event.id, webhook.id)).toEqual(lifecycle);
    }
    for (const subscription of [onlyA, onlyMessages, everything]) expect(subscription.errors).toEqual([]);
  });
});

describe('deliveryUpdated across server processes', () => {
  let database: TestDatabase;
  let apiOnly: Hookline;
  let dispatching: Hookline;
  let probeReceiver: Receiver;
  let holdingReceiver: Awaited<ReturnType<typeof startHoldingReceiver>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    probeReceiver = await startReceiver();
    holdingReceiver = await startHoldingReceiver();
    apiOnly = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true, workerId: 'api-only' });
    dispatching = await startTestApp({ databaseUrl: database.url, workerId: 'dispatching-worker' });
  });

  afterAll(async () => {
    await disposeClients();
    holdingReceiver?.release();
    await apiOnly?.stop();
    await dispatching?.stop();
    await probeReceiver?.close();
    await holdingReceiver?.close();
    await database?.drop();
  });

  test('a change made by another process on the same database reaches this one’s subscribers', async () => {
    await createWebhook(apiOnly.url, { name: 'probe', url: `${probeReceiver.url}/probe`, eventTypes: ['probe.*'] });
    const webhook = await createWebhook(apiOnly.url, { name: 'orders', url: `${holdingReceiver.url}/orders`, eventTypes: ['order.*'] });
    const subscription = await subscribeWhenActive(apiOnly.url, {}, () => publishEvent(apiOnly.url, { type: 'probe.ping', data: {} }));

    const event = await publishEvent(apiOnly.url, { type: 'order.created', data: { orderId: 7 } });

    // The request is held at the receiver: the delivery is claimed, and by the other process.
    await waitFor(() => holdingReceiver.held.length === 1, { description: 'the request at the receiver' });
    const claimed = await database.pool.query('select status, locked_by from delivery where event_id = $1', [event.id]);
    expect(claimed.rows).toEqual([{ status: 'SENDING', locked_by: 'dispatching-worker' }]);
    await waitFor(() => updatesOfEvent(subscription, event.id).some((update) => update.status === 'SENDING'), { description: 'SENDING on the API-only server' });

    holdingReceiver.release();
    await waitFor(() => updatesOfEvent(subscription, event.id).some((update) => update.status === 'SUCCEEDED'), { description: 'SUCCEEDED on the API-only server' });

    const seen = updatesOfEvent(subscription, event.id);
    expect(seen.map((update) => update.status)).toEqual(['PENDING', 'SENDING', 'SUCCEEDED']);
    expect(seen.at(-1)).toMatchObject({ webhookId: webhook.id, attemptCount: 1, attempts: [{ number: 1, success: true, responseStatus: 200 }] });
    // The API-only server never dispatched: it claimed nothing and has nothing in flight.
    expect(apiOnly.dispatcher.inFlightCount).toBe(0);
    const attempts = await database.pool.query('select number, success from attempt where event_id = $1', [event.id]);
    expect(attempts.rows).toEqual([{ number: 1, success: true }]);
    expect(subscription.errors).toEqual([]);
  });
});
