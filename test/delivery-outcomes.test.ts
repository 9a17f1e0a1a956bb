/**
 * What happens to one delivery, end to end: a real Hookline (API, dispatcher, scheduler) on its
 * own database, sending to real HTTP receivers on 127.0.0.1. Each test uses its own event type
 * and webhook, so the deliveries of one test never reach another test's receiver.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Answer, type Receiver } from './support/receiver.js';
import { createWebhook, graphqlData, publishEvent, subscribe, webSocketClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import type { Hookline } from '../src/server/hookline.js';

let database: TestDatabase;
let app: Hookline;
const receivers: Receiver[] = [];
const wsClients: Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  for (const client of wsClients) await client.dispose();
  await app?.stop();
  for (const receiver of receivers) await receiver.close();
  await database?.drop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function newReceiver(fallback?: Answer): Promise<Receiver> {
  const receiver = await startReceiver(fallback);
  receivers.push(receiver);
  return receiver;
}

interface GqlAttempt {
  number: number;
  success: boolean;
  error: string | null;
  responseStatus: number | null;
  responseBody: string | null;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  startedAt: string;
}

interface GqlDelivery {
  id: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  attempts: GqlAttempt[];
}

const deliveryQuery = `query ($id: ID!) {
  delivery(id: $id) {
    id status attemptCount nextAttemptAt
    attempts { number success error responseStatus responseBody requestHeaders requestBody startedAt }
  }
}`;

async function fetchDelivery(id: string): Promise<GqlDelivery> {
  const { delivery } = await graphqlData<{ delivery: GqlDelivery | null }>(app.url, deliveryQuery, { id });
  if (!delivery) throw new Error(`delivery ${id} not found`);
  return delivery;
}

/** The one delivery an event made, found through `deliveries(filter: { eventId })`. */
async function deliveryIdOf(eventId: string): Promise<string> {
  const data = await graphqlData<{ deliveries: { nodes: { id: string; eventId: string }[] } }>(
    app.url,
    `query ($eventId: ID!) { deliveries(filter: { eventId: $eventId }) { nodes { id eventId } } }`,
    { eventId },
  );
  expect(data.deliveries.nodes).toHaveLength(1);
  expect(data.deliveries.nodes[0]!.eventId).toBe(eventId);
  return data.deliveries.nodes[0]!.id;
}

async function waitForStatus(id: string, statuses: string[], timeoutMs = 20_000): Promise<GqlDelivery> {
  return waitFor(
    async () => {
      const delivery = await fetchDelivery(id);
      return statuses.includes(delivery.status) ? delivery : null;
    },
    { timeoutMs, intervalMs: 50, description: `delivery ${id} to become ${statuses.join(' or ')}` },
  );
}

interface StoredAttempt {
  number: number;
  success: boolean;
  error: string | null;
  response_status: number | null;
  response_body: string | null;
  response_body_bytes: number | null;
  request_headers: Record<string, string>;
  request_body: string | null;
  started_at: Date;
  duration_ms: number | null;
}

async function storedAttempts(deliveryId: string): Promise<StoredAttempt[]> {
  const result = await database.pool.query<StoredAttempt>(
    `select number, success, error, response_status, response_body, octet_length(response_body) as response_body_bytes,
            request_headers, request_body, started_at, duration_ms
     from attempt where delivery_id = $1 order by number`,
    [deliveryId],
  );
  return result.rows;
}

async function storedDelivery(deliveryId: string) {
  const result = await database.pool.query<{ status: string; attempt_count: number; next_attempt_at: Date | null; locked_by: string | null }>(
    'select status, attempt_count, next_attempt_at, locked_by from delivery where id = $1',
    [deliveryId],
  );
  return result.rows[0]!;
}

/** A webhook that wants `eventType` only. */
async function createHookFor(receiverUrl: string, eventType: string, settings: Record<string, unknown>) {
  return createWebhook(app.url, { name: eventType, url: receiverUrl, eventTypes: [eventType], ...settings });
}

/** Publishes one event of `eventType`; returns it and the id of the one delivery it made. */
async function publishOne(eventType: string, data: Record<string, unknown> = { n: 1 }) {
  const event = await publishEvent(app.url, { type: eventType, channel: 'sms', data });
  return { event, deliveryId: await deliveryIdOf(event.id) };
}

/** A webhook for `eventType` only, and one event of that type. */
async function publishTo(receiverUrl: string, eventType: string, settings: Record<string, unknown>, data?: Record<string, unknown>) {
  const webhook = await createHookFor(receiverUrl, eventType, settings);
  return { webhook, ...(await publishOne(eventType, data)) };
}

function verifySignature(secret: string, request: { body: string; headers: http.IncomingHttpHeaders }): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

/** A port on 127.0.0.1 with nothing listening on it: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

interface DeliveryChange {
  id: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
}

/**
 * Every status change of one webhook's deliveries, live over graphql-ws. Resolves once a
 * query sent after the subscription has made the round trip on the same socket, so the
 * subscription is in place before the caller publishes.
 */
async function watchDeliveries(webhookId: string) {
  const client = webSocketClient(app.url);
  wsClients.push(client);
  const liveBefore = app.liveDeliverySubscriptions;
  const subscription = subscribe<{ deliveryUpdated: DeliveryChange }>(
    client,
    `subscription ($webhookId: ID) { deliveryUpdated(webhookId: $webhookId) { id status attemptCount nextAttemptAt } }`,
    { webhookId },
  );
  // Live once the server counts it: changes committed from then on reach it.
  await waitFor(() => app.liveDeliverySubscriptions > liveBefore || subscription.errors.length > 0, { description: 'the subscription to be live' });
  return {
    errors: subscription.errors,
    /** The changes of one delivery, in the order they happened. */
    changesOf: (deliveryId: string) => subscription.received.map((value) => value.deliveryUpdated).filter((change) => change.id === deliveryId),
  };
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

// ---------------------------------------------------------------------------------------------

describe('one delivery', () => {
  test('a 200 answer: SUCCEEDED after one attempt; the request is the signed event envelope, as JSON, with webhook-id = the delivery id', async () => {
    const receiver = await newReceiver({ status: 200, body: 'thanks' });
    const { webhook, event, deliveryId } = await publishTo(`${receiver.url}/ok`, 'outcomes.ok', { retryScheduleSeconds: [1] }, { status: 'delivered', to: '+15550100' });

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED', 'RETRYING']);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attemptCount).toBe(1);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ number: 1, success: true, responseStatus: 200, error: null, responseBody: 'thanks' });

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/ok');
    expect(request.headers['content-type']).toBe('application/json');
    // The body is exactly the envelope: these five keys and nothing else.
    expect(JSON.parse(request.body)).toEqual({
      id: event.id,
      type: 'outcomes.ok',
      channel: 'sms',
      createdAt: event.createdAt,
      data: { status: 'delivered', to: '+15550100' },
    });
    // Standard Webhooks: the package verifies the raw bytes received with the secret from createWebhook.
    expect(verifySignature(webhook.secret, request)).toMatchObject({ id: event.id, type: 'outcomes.ok' });
    expect(request.headers['webhook-id']).toBe(deliveryId);

    // What is stored is what went over the wire.
    const [stored] = await storedAttempts(deliveryId);
    expect(stored).toMatchObject({ number: 1, success: true, response_status: 200, error: null, request_body: request.body });
    expect(stored!.request_headers['webhook-id']).toBe(deliveryId);
    expect(stored!.request_headers['webhook-signature']).toBe(request.headers['webhook-signature']);
    expect(await storedDelivery(deliveryId)).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, next_attempt_at: null, locked_by: null });
  });

  test('500, 500, 200 with schedule [1, 1, 1]: three attempts under one webhook-id, RETRYING in between, then SUCCEEDED', async () => {
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    receiver.queue({ status: 500, body: 'boom 1' }, { status: 500, body: 'boom 2' });
    const webhook = await createHookFor(`${receiver.url}/flaky`, 'outcomes.retried', { retryScheduleSeconds: [1, 1, 1] });

    const watch = await watchDeliveries(webhook.id);

    const { event, deliveryId } = await publishOne('outcomes.retried', { n: 2 });
    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);

    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attemptCount).toBe(3);
    expect(delivery.attempts.map((a) => ({ number: a.number, success: a.success, error: a.error, responseStatus: a.responseStatus }))).toEqual([
      { number: 1, success: false, error: 'HTTP 500', responseStatus: 500 },
      { number: 2, success: false, error: 'HTTP 500', responseStatus: 500 },
      { number: 3, success: true, error: null, responseStatus: 200 },
    ]);

    // Three requests, one webhook-id (the delivery's), each signed validly.
    expect(receiver.requests).toHaveLength(3);
    for (const request of receiver.requests) {
      expect(request.headers['webhook-id']).toBe(deliveryId);
      expect(verifySignature(webhook.secret, request)).toMatchObject({ id: event.id });
    }

    // Between attempts the delivery was RETRYING, with its next attempt set.
    await waitFor(() => watch.changesOf(deliveryId).some((change) => change.status === 'SUCCEEDED'), { description: 'the SUCCEEDED update' });
    expect(watch.errors).toEqual([]);
    const changes = watch.changesOf(deliveryId);
    expect(changes.map((change) => change.status)).toEqual(['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'RETRYING', 'SENDING', 'SUCCEEDED']);
    const retrying = changes.filter((change) => change.status === 'RETRYING');
    expect(retrying.map((change) => change.attemptCount)).toEqual([1, 2]);

    // The schedule: each retry waited its 1 s slot (±20% jitter), never less than the jitter floor.
    const attempts = await storedAttempts(deliveryId);
    expect(attempts.map((a) => a.number)).toEqual([1, 2, 3]);
    for (const [index, update] of retrying.entries()) {
      const failed = attempts[index]!;
      const next = attempts[index + 1]!;
      expect(update.nextAttemptAt).not.toBeNull();
      const due = new Date(update.nextAttemptAt!);
      expect(seconds(failed.started_at, due)).toBeGreaterThanOrEqual(0.8);
      // The 1 s slot plus jitter, counted from the answer: not the default 10 s schedule.
      expect(seconds(failed.started_at, due)).toBeLessThanOrEqual(1.2 + (failed.duration_ms ?? 0) / 1000 + 0.5);
      expect(seconds(failed.started_at, next.started_at)).toBeGreaterThanOrEqual(0.8);
    }
  });

  test('a redirect is not followed: one request to the first path, a failed attempt with HTTP 302', async () => {
    const receiver = await newReceiver();
    receiver.setScript((request) =>
      request.url === '/moved-from' ? { status: 302, headers: { location: `${receiver.url}/moved-to` }, body: '' } : { status: 200, body: 'ok' },
    );
    const { deliveryId } = await publishTo(`${receiver.url}/moved-from`, 'outcomes.redirect', { retryScheduleSeconds: [] });

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('FAILED');
    expect(delivery.attempts).toHaveLength(1);
    const [attempt] = delivery.attempts;
    expect(attempt!.success).toBe(false);
    expect(attempt!.responseStatus).toBe(302);
    expect(attempt!.error).toMatch(/redirect/i);

    await app.dispatcher.whenIdle();
    expect(receiver.requests.map((r) => r.url)).toEqual(['/moved-from']);
  });

  test('a receiver slower than timeoutMs: the attempt fails with "no answer within 300 ms" and no status; with schedule [] the delivery is FAILED', async () => {
    const receiver = await newReceiver({ status: 200, body: 'too late', delayMs: 2000 });
    const { deliveryId } = await publishTo(`${receiver.url}/slow`, 'outcomes.slow', { timeoutMs: 300, retryScheduleSeconds: [] });

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('FAILED');
    expect(delivery.attemptCount).toBe(1);
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ number: 1, success: false, responseStatus: null });
    expect(delivery.attempts[0]!.error).toContain('no answer within 300 ms');
    expect(receiver.requests).toHaveLength(1);

    const [stored] = await storedAttempts(deliveryId);
    expect(stored).toMatchObject({ success: false, response_status: null, response_body: null });
  });

  test('schedule used up: a receiver that always answers 503 (no Retry-After) with schedule [1] gets exactly 2 attempts, then FAILED', async () => {
    const receiver = await newReceiver({ status: 503, body: 'unavailable' });
    const { webhook, deliveryId } = await publishTo(`${receiver.url}/down`, 'outcomes.exhausted', { retryScheduleSeconds: [1] });

    await waitFor(async () => (await storedDelivery(deliveryId)).status === 'FAILED', { timeoutMs: 20_000, description: 'the delivery to fail' });
    const stored = await storedDelivery(deliveryId);
    expect(stored).toMatchObject({ status: 'FAILED', attempt_count: 2, next_attempt_at: null, locked_by: null });

    const attempts = await storedAttempts(deliveryId);
    expect(attempts.map((a) => [a.number, a.success, a.response_status, a.error])).toEqual([
      [1, false, 503, 'HTTP 503'],
      [2, false, 503, 'HTTP 503'],
    ]);

    // A FAILED delivery is not due: nothing more goes out.
    await app.dispatcher.runOnce();
    await app.dispatcher.whenIdle();
    expect(receiver.requests).toHaveLength(2);
    const failed = await graphqlData(
      app.url,
      `query ($webhookId: ID) { deliveries(filter: { webhookId: $webhookId, status: FAILED }) { nodes { id attemptCount nextAttemptAt } } }`,
      { webhookId: webhook.id },
    );
    expect(failed.deliveries.nodes).toEqual([{ id: deliveryId, attemptCount: 2, nextAttemptAt: null }]);
  });

  test('429 with Retry-After: 2 overrides an hour-long slot: the next attempt is about 2 s later, and succeeds', async () => {
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    receiver.queue({ status: 429, headers: { 'retry-after': '2' }, body: 'slow down' });
    const webhook = await createHookFor(`${receiver.url}/limited`, 'outcomes.retry-after', { retryScheduleSeconds: [3600] });
    const watch = await watchDeliveries(webhook.id);
    const { deliveryId } = await publishOne('outcomes.retry-after');

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attempts.map((a) => [a.number, a.success, a.responseStatus])).toEqual([
      [1, false, 429],
      [2, true, 200],
    ]);
    // After the 429 the delivery was RETRYING, due about 2 s after the attempt started (not in an hour).
    await waitFor(() => watch.changesOf(deliveryId).some((change) => change.status === 'SUCCEEDED'), { description: 'the SUCCEEDED update' });
    const changes = watch.changesOf(deliveryId);
    expect(changes.map((change) => change.status)).toEqual(['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'SUCCEEDED']);
    const retrying = changes[2]!;
    expect(retrying.attemptCount).toBe(1);
    expect(retrying.nextAttemptAt).not.toBeNull();
    const attempts = await storedAttempts(deliveryId);
    const wait = seconds(attempts[0]!.started_at, new Date(retrying.nextAttemptAt!));
    expect(wait).toBeGreaterThanOrEqual(1.5);
    expect(wait).toBeLessThanOrEqual(3);
    expect(seconds(attempts[0]!.started_at, attempts[1]!.started_at)).toBeGreaterThanOrEqual(1.5);
    expect(receiver.requests).toHaveLength(2);
  });

  test('a 200 KB answer is stored cut to 64 KB (65536 bytes), and the attempt still succeeds', async () => {
    const big = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil((200 * 1024) / 36)).slice(0, 200 * 1024);
    const receiver = await newReceiver({ status: 200, headers: { 'content-type': 'text/plain' }, body: big });
    const { deliveryId } = await publishTo(`${receiver.url}/big`, 'outcomes.big-answer', { retryScheduleSeconds: [] });

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attempts[0]).toMatchObject({ success: true, responseStatus: 200 });
    expect(delivery.attempts[0]!.responseBody).toBe(big.slice(0, 65536));

    const [stored] = await storedAttempts(deliveryId);
    expect(stored!.success).toBe(true);
    expect(Number(stored!.response_body_bytes)).toBe(65536);
    expect(stored!.response_body).toBe(big.slice(0, 65536));
  });

  test('a refused connection: the attempt error is "connection refused", no status, and the delivery is RETRYING', async () => {
    const port = await closedPort();
    const { deliveryId } = await publishTo(`http://127.0.0.1:${port}/nobody`, 'outcomes.refused', { retryScheduleSeconds: [3600] });

    const delivery = await waitForStatus(deliveryId, ['RETRYING', 'SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('RETRYING');
    expect(delivery.attemptCount).toBe(1);
    expect(delivery.nextAttemptAt).not.toBeNull();
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ number: 1, success: false, responseStatus: null, error: 'connection refused' });

    const stored = await storedDelivery(deliveryId);
    expect(stored.status).toBe('RETRYING');
    // The hour-long slot, with jitter: due in 48 to 72 minutes.
    const [attempt] = await storedAttempts(deliveryId);
    const wait = seconds(attempt!.started_at, stored.next_attempt_at!);
    expect(wait).toBeGreaterThanOrEqual(0.8 * 3600);
    expect(wait).toBeLessThanOrEqual(1.2 * 3600 + 60);
  });

  test('a bearer token reaches the receiver but is stored and shown only masked', async () => {
    const token = 'sekrit-token-123';
    const receiver = await newReceiver({ status: 200, body: 'ok' });
    const { webhook, deliveryId } = await publishTo(`${receiver.url}/private`, 'outcomes.auth', {
      retryScheduleSeconds: [],
      auth: { type: 'BEARER', token },
    });
    expect(JSON.stringify(webhook.auth)).not.toContain(token);

    const delivery = await waitForStatus(deliveryId, ['SUCCEEDED', 'FAILED']);
    expect(delivery.status).toBe('SUCCEEDED');

    // On the wire: in clear.
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers['authorization']).toBe(`Bearer ${token}`);

    // Stored: masked, in the header and anywhere else in the attempt row.
    const [stored] = await storedAttempts(deliveryId);
    expect(stored!.request_headers['authorization']).toMatch(/^Bearer /);
    expect(stored!.request_headers['authorization']).not.toContain(token);
    const row = await database.pool.query(`select row_to_json(a)::text as text from attempt a where delivery_id = $1`, [deliveryId]);
    expect(row.rows[0].text).not.toContain(token);

    // Through the API: masked too.
    expect(delivery.attempts[0]!.requestHeaders['authorization']).toMatch(/^Bearer /);
    expect(JSON.stringify(delivery.attempts[0])).not.toContain(token);
    const read = await graphqlData(app.url, `query ($id: ID!) { webhook(id: $id) { auth { type token } } }`, { id: webhook.id });
    expect(read.webhook.auth.type).toBe('BEARER');
    expect(read.webhook.auth.token).toBeTruthy();
    expect(read.webhook.auth.token).not.toContain(token);
  });
});
