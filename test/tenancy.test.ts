/**
 * Tenancy: every GraphQL operation acts for the project of its API key, and nothing else.
 *
 * Project A is the test database's own project (its key is the one the helpers send). Project B
 * is created through `createProject` with the admin token. A gets webhooks, events, deliveries
 * (SUCCEEDED, FAILED, RETRYING) and attempts; then B's key goes through every operation of the
 * contract with A's ids:
 *
 *   Query:        webhook, webhooks, project, apiKeys, delivery, deliveries, deliveryAttempts,
 *                 event, eventTypes, previewWebhookRequest
 *   Mutation:     createWebhook, updateWebhook, deleteWebhook, startWebhook, stopWebhook,
 *                 rotateWebhookSecret, createProject, createApiKey, revokeApiKey, retryDelivery,
 *                 replayDeliveries, cancelDelivery, publishEvent, publishEvents, testWebhook
 *   Subscription: webhookHealthChanged, deliveryUpdated
 *
 * An id of another project is NOT_FOUND (a nullable lookup answers null), lists never carry
 * another project's rows, and A's rows are byte-for-byte the same afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { closedWith, createWebhook, graphql, publishEvent, subscribe, watchClose, webSocketClient, type GraphQLResult } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import { webhookHealthChannel } from '../src/persistence/sql/notification-channels.js';
import type { Hookline } from '../src/server/hookline.js';

const adminToken = 'test-admin-token';

let database: TestDatabase;
let app: Hookline;
let receiverA: Receiver;
let receiverB: Receiver;
const clients: Client[] = [];

/** Project A: the test database's project. */
const a = {
  projectId: '',
  apiKey: '',
  apiKeyId: '',
  /** Catch-all, answers 200: its delivery SUCCEEDED. */
  hook: { id: '' },
  /** message.status only, answers 500 without retries: its delivery FAILED. */
  failing: { id: '' },
  /** message.status only, answers 500, next retry in an hour: its delivery is RETRYING (cancellable). */
  retrying: { id: '' },
  /** Stopped. */
  stopped: { id: '' },
  event: { id: '' },
  deliveries: { succeeded: '', failed: '', retrying: '' },
};

/** Project B: created with the admin token. */
const b = {
  projectId: '',
  apiKey: '',
  hook: { id: '' },
  event: { id: '' },
};

// ---------------------------------------------------------------------------------------------
// Helpers

function asA<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResult<T>> {
  return graphql<T>(app.url, query, variables, { apiKey: a.apiKey });
}

function asB<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResult<T>> {
  return graphql<T>(app.url, query, variables, { apiKey: b.apiKey });
}

function dataOf<T>(result: GraphQLResult<T>): T {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data!;
}

function codesOf(result: GraphQLResult): (string | undefined)[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}

/** The codes of the errors a graphql-ws subscription received (in `next` payloads or as a failure). */
function subscriptionErrorCodes(errors: unknown[]): unknown[] {
  return errors.flatMap((entry) => (Array.isArray(entry) ? entry : [entry])).map((error) => (error as { extensions?: { code?: string } })?.extensions?.code);
}

/** A POST to /graphql as it goes over the wire, with the HTTP status. */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: GraphQLResult }> {
  const response = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as GraphQLResult };
}

function client(apiKey: string | null): Client {
  const created = webSocketClient(app.url, { apiKey });
  clients.push(created);
  return created;
}

async function count(sql: string, parameters: unknown[] = []): Promise<number> {
  return Number((await database.pool.query(sql, parameters)).rows[0].count);
}

/** Every stored row of a project, for before/after comparisons. */
async function rowsOfProject(projectId: string) {
  const query = async (sql: string) => (await database.pool.query(sql, [projectId])).rows;
  return {
    project: await query('select * from project where id = $1'),
    webhooks: await query('select * from webhook where project_id = $1 order by id'),
    events: await query('select * from event where project_id = $1 order by id'),
    deliveries: await query('select * from delivery where project_id = $1 order by id'),
    attempts: await query('select * from attempt where project_id = $1 order by id'),
    // last_used_at is touched (at most once a minute) by A's own requests, so it is left out.
    apiKeys: await query('select id, project_id, name, prefix, key_hash, created_at, revoked_at from api_key where project_id = $1 order by id'),
  };
}

async function deliveryIdsOfProject(projectId: string): Promise<Set<string>> {
  return new Set((await database.pool.query('select id from delivery where project_id = $1', [projectId])).rows.map((row) => row.id as string));
}

async function waitForDeliveryStatus(id: string, status: string): Promise<void> {
  await waitFor(async () => (await database.pool.query('select status from delivery where id = $1', [id])).rows[0]?.status === status, {
    description: `delivery ${id} to be ${status}`,
  });
}

const publishMutation = `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { id type idempotencyKey } }`;
const deliveryUpdatedSubscription = `subscription ($webhookId: ID, $eventType: String) {
  deliveryUpdated(webhookId: $webhookId, eventType: $eventType) { id eventId webhookId status event { id } webhook { id } attempts { number } }
}`;
const webhookHealthChangedSubscription = `subscription ($webhookId: ID) { webhookHealthChanged(webhookId: $webhookId) { webhookId kind webhook { id } } }`;

interface DeliveryUpdate {
  id: string;
  eventId: string;
  webhookId: string | null;
  status: string;
}

/**
 * Opens a deliveryUpdated subscription and returns once the server has it: probe events of the
 * subscriber's own project are published until an update of one arrives.
 */
async function deliveryUpdatesWhenActive(apiKey: string) {
  const subscription = subscribe<{ deliveryUpdated: DeliveryUpdate }>(client(apiKey), deliveryUpdatedSubscription);
  const updates = () => subscription.received.map((message) => message.deliveryUpdated);
  const probes = new Set<string>();
  await waitFor(
    async () => {
      probes.add(dataOf(await graphql(app.url, publishMutation, { input: { type: 'probe.ping', data: {} } }, { apiKey })).publishEvent.id);
      return waitFor(() => updates().some((update) => probes.has(update.eventId)), { timeoutMs: 2_000 }).catch(() => false);
    },
    { timeoutMs: 30_000, description: 'the deliveryUpdated subscription to become active' },
  );
  expect(subscription.errors).toEqual([]);
  return { updates, errors: subscription.errors };
}

/**
 * Opens a webhookHealthChanged subscription and returns once the server has it: health notices
 * about made-up webhooks of `projectId` are sent over the real channel until one arrives.
 */
async function healthChangesWhenActive(apiKey: string, projectId: string) {
  const subscription = subscribe<{ webhookHealthChanged: { webhookId: string; kind: string } }>(client(apiKey), webhookHealthChangedSubscription);
  const changes = () => subscription.received.map((message) => message.webhookHealthChanged);
  const probes = new Set<string>();
  const sendProbe = async () => {
    const probe = uuidv7();
    probes.add(probe);
    await database.pool.query('select pg_notify($1, $2)', [webhookHealthChannel, JSON.stringify({ webhookId: probe, projectId, state: 'RECOVERED' })]);
    return probe;
  };
  await waitFor(
    async () => {
      await sendProbe();
      return waitFor(() => changes().some((change) => probes.has(change.webhookId)), { timeoutMs: 500 }).catch(() => false);
    },
    { timeoutMs: 30_000, description: 'the webhookHealthChanged subscription to become active' },
  );
  expect(subscription.errors).toEqual([]);
  return { changes, errors: subscription.errors, sendProbe };
}

// ---------------------------------------------------------------------------------------------
// Setup

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestApp({
    databaseUrl: database.url,
    // The health sweep runs when a test calls it; a first failure already counts as failing.
    withoutScheduler: true,
    config: { adminToken, health: { disableAfterMs: 5 * 24 * 3600 * 1000, failingAfterFailures: 1 } },
  });
  receiverA = await startReceiver();
  receiverB = await startReceiver();
  for (const receiver of [receiverA, receiverB]) {
    receiver.setScript((request) => (request.url.startsWith('/fail') ? { status: 500, body: 'no' } : { status: 200, body: 'ok' }));
  }

  // Project A.
  a.projectId = database.projectId;
  a.apiKey = database.apiKey;
  a.apiKeyId = (await database.pool.query('select id from api_key where project_id = $1', [a.projectId])).rows[0].id;
  a.hook = await createWebhook(app.url, { name: 'a catch-all', url: `${receiverA.url}/all`, eventTypes: ['*'] });
  a.failing = await createWebhook(app.url, { name: 'a failing', url: `${receiverA.url}/fail`, eventTypes: ['message.status'], retryScheduleSeconds: [] });
  a.retrying = await createWebhook(app.url, { name: 'a retrying', url: `${receiverA.url}/fail/later`, eventTypes: ['message.status'], retryScheduleSeconds: [3600] });
  a.stopped = await createWebhook(app.url, { name: 'a stopped', url: `${receiverA.url}/stopped`, eventTypes: ['message.status'], active: false });
  a.event = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: { messageId: 'a-1', status: 'delivered' }, idempotencyKey: 'shared-key' });
  const deliveriesOfA = (await database.pool.query('select id, webhook_id from delivery where event_id = $1', [a.event.id])).rows;
  const deliveryTo = (webhookId: string) => deliveriesOfA.find((row) => row.webhook_id === webhookId)!.id as string;
  a.deliveries = { succeeded: deliveryTo(a.hook.id), failed: deliveryTo(a.failing.id), retrying: deliveryTo(a.retrying.id) };
  await waitForDeliveryStatus(a.deliveries.succeeded, 'SUCCEEDED');
  await waitForDeliveryStatus(a.deliveries.failed, 'FAILED');
  await waitForDeliveryStatus(a.deliveries.retrying, 'RETRYING');

  // Project B, created with the admin token.
  const created = dataOf(
    await graphql(app.url, `mutation ($name: String!) { createProject(name: $name) { project { id name createdAt } apiKey } }`, { name: 'project b' }, { apiKey: adminToken }),
  ).createProject;
  b.projectId = created.project.id;
  b.apiKey = created.apiKey;
  b.hook = dataOf(
    await asB(`mutation ($input: WebhookInput!) { createWebhook(input: $input) { id } }`, { input: { name: 'b catch-all', url: `${receiverB.url}/all`, eventTypes: ['*'] } }),
  ).createWebhook;
  b.event = dataOf(await asB(publishMutation, { input: { type: 'message.status', channel: 'sms', data: { messageId: 'b-1', status: 'delivered' } } })).publishEvent;
  const deliveryOfB = (await database.pool.query('select id from delivery where event_id = $1', [b.event.id])).rows[0].id;
  await waitForDeliveryStatus(deliveryOfB, 'SUCCEEDED');
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((created) => created.dispose()));
  await app?.stop();
  await receiverA?.close();
  await receiverB?.close();
  await database?.drop();
});

// ---------------------------------------------------------------------------------------------

describe('who may call', () => {
  test('without a key, a query and a mutation are UNAUTHENTICATED with HTTP 401, and nothing is stored', async () => {
    const eventsBefore = await count('select count(*) from event');
    const query = await post({ query: '{ webhooks { nodes { id } } }' });
    expect(query.status).toBe(401);
    expect(query.body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(query.body.data).toBeUndefined();

    const mutation = await post({ query: publishMutation, variables: { input: { type: 'message.status', data: {} } } });
    expect(mutation.status).toBe(401);
    expect(mutation.body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await count('select count(*) from event')).toBe(eventsBefore);
  });

  test('an unknown key, a malformed one, or a key in the wrong scheme is UNAUTHENTICATED with HTTP 401', async () => {
    for (const authorization of [`Bearer hk_${randomBytes(32).toString('base64url')}`, 'Bearer not-a-key', `Basic ${Buffer.from(`x:${a.apiKey}`).toString('base64')}`, a.apiKey]) {
      const result = await post({ query: '{ project { id } }' }, { authorization });
      expect({ authorization, status: result.status, codes: result.body.errors?.map((error) => error.extensions?.code) }).toEqual({
        authorization,
        status: 401,
        codes: ['UNAUTHENTICATED'],
      });
    }
  });

  test('a WebSocket without a key, or with an unknown key, is refused with close code 4403', async () => {
    for (const apiKey of [null, `hk_${randomBytes(32).toString('base64url')}`]) {
      const refused = client(apiKey);
      const closed = watchClose(refused);
      const subscription = subscribe(refused, deliveryUpdatedSubscription);
      expect(await closedWith(closed)).toBe(4403);
      expect(subscription.received).toEqual([]);
    }
  });

  test('the admin token creates projects, each with a first key that works at once', async () => {
    const row = (await database.pool.query('select name from project where id = $1', [b.projectId])).rows[0];
    expect(row).toEqual({ name: 'project b' });
    expect(b.apiKey).toMatch(/^hk_/);
    expect(dataOf(await asB('{ project { id name } }')).project).toEqual({ id: b.projectId, name: 'project b' });
    expect(await count('select count(*) from api_key where project_id = $1', [b.projectId])).toBe(1);
  });

  test('the admin token is FORBIDDEN for project operations, over HTTP and over WebSocket, and stores nothing', async () => {
    const eventsBefore = await count('select count(*) from event');
    const admin = (query: string, variables: Record<string, unknown> = {}) => graphql(app.url, query, variables, { apiKey: adminToken });
    expect(codesOf(await admin('{ webhooks { nodes { id } } }'))).toEqual(['FORBIDDEN']);
    expect(codesOf(await admin('{ project { id } }'))).toEqual(['FORBIDDEN']);
    expect(codesOf(await admin('mutation { createApiKey(name: "admin") { apiKey } }'))).toEqual(['FORBIDDEN']);
    expect(codesOf(await admin(publishMutation, { input: { type: 'message.status', data: {} } }))).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from event')).toBe(eventsBefore);

    const subscription = subscribe(client(adminToken), deliveryUpdatedSubscription);
    await waitFor(() => subscription.errors.length > 0, { description: 'the admin subscription to be refused' });
    expect(subscriptionErrorCodes(subscription.errors)).toEqual(['FORBIDDEN']);
    expect(subscription.received).toEqual([]);
  });

  test('a project key is FORBIDDEN to create projects', async () => {
    const projectsBefore = await count('select count(*) from project');
    const result = await asA(`mutation { createProject(name: "sneaky") { project { id } apiKey } }`);
    expect(codesOf(result)).toEqual(['FORBIDDEN']);
    expect(result.data).toBeNull();
    expect(await count('select count(*) from project')).toBe(projectsBefore);
  });

  test('without HOOKLINE_ADMIN_TOKEN configured, nothing can create projects', async () => {
    const withoutAdmin = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
    try {
      const projectsBefore = await count('select count(*) from project');
      const create = (apiKey: string | null) => graphql(withoutAdmin.url, `mutation { createProject(name: "nobody's") { apiKey } }`, {}, { apiKey });
      // The token the other app accepts is no key here; a project key is not enough; no key at all is refused.
      expect(codesOf(await create(adminToken))).toEqual(['UNAUTHENTICATED']);
      expect(codesOf(await create(a.apiKey))).toEqual(['FORBIDDEN']);
      expect(codesOf(await create(null))).toEqual(['UNAUTHENTICATED']);
      expect(await count('select count(*) from project')).toBe(projectsBefore);
    } finally {
      await withoutAdmin.stop();
    }
  });
});

describe("another project's rows, read with B's key", () => {
  test('webhook, event and delivery of project A are null', async () => {
    for (const id of [a.hook.id, a.failing.id, a.retrying.id, a.stopped.id]) {
      const result = await asB(`query ($id: ID!) { webhook(id: $id) { id name url secret } }`, { id });
      expect(result).toEqual({ data: { webhook: null } });
      // The same id is there for its own project.
      expect(dataOf(await asA(`query ($id: ID!) { webhook(id: $id) { id } }`, { id })).webhook).toEqual({ id });
    }
    expect(await asB(`query ($id: ID!) { event(id: $id) { id data } }`, { id: a.event.id })).toEqual({ data: { event: null } });
    expect(dataOf(await asA(`query ($id: ID!) { event(id: $id) { id } }`, { id: a.event.id })).event).toEqual({ id: a.event.id });
    for (const id of Object.values(a.deliveries)) {
      expect(await asB(`query ($id: ID!) { delivery(id: $id) { id status } }`, { id })).toEqual({ data: { delivery: null } });
      expect(dataOf(await asA(`query ($id: ID!) { delivery(id: $id) { id } }`, { id })).delivery).toEqual({ id });
    }
  });

  test('the webhooks, deliveries, deliveryAttempts and apiKeys lists hold only B’s own rows', async () => {
    const lists = {
      webhooks: dataOf(await asB('{ webhooks { nodes { id } } }')).webhooks,
      deliveries: dataOf(await asB('{ deliveries { nodes { id eventId webhookId event { id } attempts { id } } } }')).deliveries,
      deliveryAttempts: dataOf(await asB('{ deliveryAttempts { nodes { id deliveryId webhookId eventId } } }')).deliveryAttempts,
      apiKeys: dataOf(await asB('{ apiKeys { nodes { id prefix } } }')).apiKeys,
      project: dataOf(await asB('{ project { id } }')).project,
    };
    const rowsOfB = await rowsOfProject(b.projectId);
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
    // Exactly B's rows: so none of A's, and not an empty list that would prove nothing.
    expect(ids(lists.webhooks.nodes)).toEqual(ids(rowsOfB.webhooks));
    expect(ids(lists.deliveries.nodes)).toEqual(ids(rowsOfB.deliveries));
    expect(ids(lists.deliveryAttempts.nodes)).toEqual(ids(rowsOfB.attempts));
    expect(ids(lists.apiKeys.nodes)).toEqual(ids(rowsOfB.apiKeys));
    expect(lists.webhooks.nodes.length).toBeGreaterThan(0);
    expect(lists.deliveries.nodes.length).toBeGreaterThan(0);
    expect(lists.deliveryAttempts.nodes.length).toBeGreaterThan(0);
    expect(lists.project).toEqual({ id: b.projectId });

    const rowsOfA = await rowsOfProject(a.projectId);
    const everything = JSON.stringify(lists);
    for (const row of [...rowsOfA.webhooks, ...rowsOfA.events, ...rowsOfA.deliveries, ...rowsOfA.attempts, ...rowsOfA.apiKeys]) {
      expect(everything).not.toContain(row.id);
    }
  });

  test('and A’s lists hold none of B’s rows', async () => {
    const lists = {
      webhooks: dataOf(await asA('{ webhooks { nodes { id } } }')).webhooks,
      deliveries: dataOf(await asA('{ deliveries { nodes { id } } }')).deliveries,
      deliveryAttempts: dataOf(await asA('{ deliveryAttempts { nodes { id } } }')).deliveryAttempts,
      apiKeys: dataOf(await asA('{ apiKeys { nodes { id } } }')).apiKeys,
    };
    const rowsOfB = await rowsOfProject(b.projectId);
    const everything = JSON.stringify(lists);
    for (const row of [...rowsOfB.webhooks, ...rowsOfB.deliveries, ...rowsOfB.attempts, ...rowsOfB.apiKeys]) {
      expect(everything).not.toContain(row.id);
    }
    expect(lists.deliveries.nodes.map((node: { id: string }) => node.id)).toEqual(expect.arrayContaining(Object.values(a.deliveries)));
  });

  test('filters naming A’s webhook, event or delivery are NOT_FOUND, though they list A’s rows for A', async () => {
    const cases: { query: string; filter: Record<string, string>; field: string }[] = [
      { query: 'deliveries', field: 'deliveries', filter: { webhookId: a.hook.id } },
      { query: 'deliveries', field: 'deliveries', filter: { eventId: a.event.id } },
      { query: 'deliveryAttempts', field: 'deliveryAttempts', filter: { deliveryId: a.deliveries.failed } },
      { query: 'deliveryAttempts', field: 'deliveryAttempts', filter: { webhookId: a.failing.id } },
      { query: 'deliveryAttempts', field: 'deliveryAttempts', filter: { eventId: a.event.id } },
    ];
    for (const { query, field, filter } of cases) {
      const filterType = query === 'deliveries' ? 'DeliveryFilter' : 'AttemptFilter';
      const document = `query ($filter: ${filterType}) { ${query}(filter: $filter) { nodes { id } } }`;
      const refused = await asB(document, { filter });
      expect({ query, filter, codes: codesOf(refused), data: refused.data }).toEqual({ query, filter, codes: ['NOT_FOUND'], data: null });
      expect(dataOf(await asA(document, { filter }))[field].nodes.length).toBeGreaterThan(0);
    }
  });

  test('previewWebhookRequest of A’s webhook is NOT_FOUND', async () => {
    const document = `query ($input: TestWebhookInput!) { previewWebhookRequest(input: $input) { method url headers body } }`;
    const input = { webhookId: a.hook.id, eventType: 'message.status' };
    const refused = await asB(document, { input });
    expect(codesOf(refused)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(refused)).not.toContain(receiverA.url);
    expect(dataOf(await asA(document, { input })).previewWebhookRequest.url).toBe(`${receiverA.url}/all`);
  });

  test('eventTypes is the same built-in catalog for every project', async () => {
    const document = '{ eventTypes { name channels } }';
    const ofB = dataOf(await asB(document)).eventTypes;
    expect(ofB.length).toBeGreaterThan(0);
    expect(ofB).toEqual(dataOf(await asA(document)).eventTypes);
  });
});

describe("another project's rows, changed with B's key", () => {
  test('every mutation naming A’s rows is NOT_FOUND, and A’s rows stay exactly as they were', async () => {
    const before = await rowsOfProject(a.projectId);
    const requestsToA = receiverA.requests.length;
    expect(before.webhooks.map((row) => row.active)).toContain(false);
    const mutations: { name: string; document: string; variables: Record<string, unknown> }[] = [
      { name: 'updateWebhook', document: `mutation ($id: ID!, $input: WebhookPatch!) { updateWebhook(id: $id, input: $input) { id name } }`, variables: { id: a.hook.id, input: { name: 'taken over', url: `${receiverB.url}/stolen` } } },
      { name: 'deleteWebhook', document: `mutation ($id: ID!) { deleteWebhook(id: $id) }`, variables: { id: a.hook.id } },
      { name: 'startWebhook', document: `mutation ($id: ID!) { startWebhook(id: $id) { id active } }`, variables: { id: a.stopped.id } },
      { name: 'stopWebhook', document: `mutation ($id: ID!) { stopWebhook(id: $id) { id active } }`, variables: { id: a.hook.id } },
      { name: 'rotateWebhookSecret', document: `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { id secret } }`, variables: { id: a.hook.id } },
      { name: 'retryDelivery', document: `mutation ($id: ID!) { retryDelivery(id: $id) { id status } }`, variables: { id: a.deliveries.failed } },
      { name: 'cancelDelivery', document: `mutation ($id: ID!) { cancelDelivery(id: $id) { id status } }`, variables: { id: a.deliveries.retrying } },
      { name: 'revokeApiKey', document: `mutation ($id: ID!) { revokeApiKey(id: $id) }`, variables: { id: a.apiKeyId } },
      { name: 'replayDeliveries', document: `mutation ($filter: ReplayFilter!) { replayDeliveries(filter: $filter) }`, variables: { filter: { webhookId: a.failing.id } } },
      { name: 'testWebhook', document: `mutation ($input: TestWebhookInput!) { testWebhook(input: $input) { success responseStatus request { url } } }`, variables: { input: { webhookId: a.hook.id, eventType: 'message.status' } } },
    ];
    for (const { name, document, variables } of mutations) {
      const result = await asB(document, variables);
      expect({ name, codes: codesOf(result), data: result.data }).toEqual({ name, codes: ['NOT_FOUND'], data: null });
    }

    // A replay without a webhook filter counts only B's own FAILED deliveries (B has none; A has one).
    expect(dataOf(await asB(`mutation { replayDeliveries(filter: {}) }`)).replayDeliveries).toBe(0);

    await app.dispatcher.whenIdle();
    expect(await rowsOfProject(a.projectId)).toEqual(before);
    expect(receiverA.requests.length).toBe(requestsToA);
    // A's key still works.
    expect(dataOf(await asA('{ project { id } }')).project).toEqual({ id: a.projectId });
  });

  test('createWebhook and createApiKey with B’s key make rows of B, which A never sees', async () => {
    const webhook = dataOf(
      await asB(`mutation ($input: WebhookInput!) { createWebhook(input: $input) { id } }`, { input: { name: 'b second', url: `${receiverB.url}/second`, eventTypes: ['contact.*'] } }),
    ).createWebhook;
    const key = dataOf(await asB(`mutation { createApiKey(name: "b second key") { apiKey key { id } } }`)).createApiKey;
    expect((await database.pool.query('select project_id from webhook where id = $1', [webhook.id])).rows).toEqual([{ project_id: b.projectId }]);
    expect((await database.pool.query('select project_id from api_key where id = $1', [key.key.id])).rows).toEqual([{ project_id: b.projectId }]);
    // The new key acts for B.
    expect(dataOf(await graphql(app.url, '{ project { id } }', {}, { apiKey: key.apiKey })).project).toEqual({ id: b.projectId });

    expect(await asA(`query ($id: ID!) { webhook(id: $id) { id } }`, { id: webhook.id })).toEqual({ data: { webhook: null } });
    const listsOfA = JSON.stringify([dataOf(await asA('{ webhooks { nodes { id } } }')), dataOf(await asA('{ apiKeys { nodes { id } } }'))]);
    expect(listsOfA).not.toContain(webhook.id);
    expect(listsOfA).not.toContain(key.key.id);
    // And A cannot revoke it.
    expect(codesOf(await asA(`mutation ($id: ID!) { revokeApiKey(id: $id) }`, { id: key.key.id }))).toEqual(['NOT_FOUND']);
  });
});

describe("publishing with B's key", () => {
  test('publishEvent and publishEvents reach only B’s webhooks: A’s catch-all webhook receives nothing', async () => {
    const single = dataOf(await asB(publishMutation, { input: { type: 'message.status', channel: 'sms', data: { messageId: 'b-2', status: 'delivered' } } })).publishEvent;
    const batch = dataOf(
      await asB(`mutation ($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`, {
        inputs: [
          { type: 'message.received', channel: 'sms', data: { messageId: 'b-3' } },
          { type: 'contact.updated', data: { contactId: 'b-4' } },
        ],
      }),
    ).publishEvents;
    const eventIds = [single.id, ...batch.map((event: { id: string }) => event.id)];

    // Each went to B's catch-all (and contact.updated also to B's second webhook), and was delivered there.
    await waitFor(async () => (await count(`select count(*) from delivery where event_id = any($1) and status = 'SUCCEEDED'`, [eventIds])) === 4, {
      description: "B's deliveries to succeed",
    });
    await app.dispatcher.whenIdle();
    const deliveries = (await database.pool.query('select project_id, webhook_id from delivery where event_id = any($1)', [eventIds])).rows;
    const webhooksOfB = new Set((await database.pool.query('select id from webhook where project_id = $1', [b.projectId])).rows.map((row) => row.id));
    expect(deliveries).toHaveLength(4);
    for (const delivery of deliveries) {
      expect(delivery.project_id).toBe(b.projectId);
      expect(webhooksOfB.has(delivery.webhook_id)).toBe(true);
    }
    expect((await database.pool.query('select distinct project_id from event where id = any($1)', [eventIds])).rows).toEqual([{ project_id: b.projectId }]);
    for (const eventId of eventIds) {
      expect(receiverA.requests.filter((request) => request.body.includes(eventId))).toEqual([]);
      expect(receiverB.requests.some((request) => request.url === '/all' && request.body.includes(eventId))).toBe(true);
    }
  });

  test('an idempotency key A already used is B’s own: a new event of B, and A’s event is untouched', async () => {
    const eventOfA = (await database.pool.query('select * from event where id = $1', [a.event.id])).rows;
    const published = dataOf(await asB(publishMutation, { input: { type: 'message.status', data: { messageId: 'b-5' }, idempotencyKey: 'shared-key' } })).publishEvent;
    expect(published.id).not.toBe(a.event.id);
    expect(published.idempotencyKey).toBe('shared-key');
    expect((await database.pool.query('select project_id, data from event where id = $1', [published.id])).rows).toEqual([{ project_id: b.projectId, data: { messageId: 'b-5' } }]);
    expect((await database.pool.query('select * from event where id = $1', [a.event.id])).rows).toEqual(eventOfA);
    // The same key again in B is the same event of B.
    const again = dataOf(await asB(publishMutation, { input: { type: 'message.status', data: { messageId: 'b-5' }, idempotencyKey: 'shared-key' } })).publishEvent;
    expect(again.id).toBe(published.id);
  });
});

describe("subscriptions with B's key", () => {
  test('deliveryUpdated carries B’s deliveries only, while A’s deliveries happen at the same time', async () => {
    const [ofA, ofB] = [await deliveryUpdatesWhenActive(a.apiKey), await deliveryUpdatesWhenActive(b.apiKey)];
    const eventsOfA: string[] = [];
    const eventsOfB: string[] = [];
    for (let round = 0; round < 3; round++) {
      // A's delivery first, seen to the end by A's subscriber; then B's, seen to the end by B's.
      // B's subscriber hears the changes in the order they were made, so had A's reached it,
      // they would have come before B's final update.
      const eventOfA = dataOf(await asA(publishMutation, { input: { type: 'message.received', channel: 'sms', data: { round } } })).publishEvent;
      eventsOfA.push(eventOfA.id);
      await waitFor(() => ofA.updates().some((update) => update.eventId === eventOfA.id && update.status === 'SUCCEEDED'), { description: "A's update" });
      const eventOfB = dataOf(await asB(publishMutation, { input: { type: 'message.received', channel: 'sms', data: { round } } })).publishEvent;
      eventsOfB.push(eventOfB.id);
      await waitFor(() => ofB.updates().some((update) => update.eventId === eventOfB.id && update.status === 'SUCCEEDED'), { description: "B's update" });
    }

    const deliveriesOfA = await deliveryIdsOfProject(a.projectId);
    const webhooksOfA = [a.hook.id, a.failing.id, a.retrying.id, a.stopped.id];
    expect(ofB.updates().filter((update) => deliveriesOfA.has(update.id) || eventsOfA.includes(update.eventId) || webhooksOfA.includes(update.webhookId ?? ''))).toEqual([]);
    for (const eventId of eventsOfB) {
      expect(ofB.updates().filter((update) => update.eventId === eventId).map((update) => update.status)).toContain('SUCCEEDED');
    }
    // And the other way round.
    const deliveriesOfB = await deliveryIdsOfProject(b.projectId);
    expect(ofA.updates().filter((update) => deliveriesOfB.has(update.id))).toEqual([]);
    expect(ofB.errors).toEqual([]);
  });

  test('deliveryUpdated and webhookHealthChanged filtered on A’s webhook are NOT_FOUND for B', async () => {
    const asClientOfB = client(b.apiKey);
    const cases = [
      { document: deliveryUpdatedSubscription, variables: { webhookId: a.hook.id } },
      { document: deliveryUpdatedSubscription, variables: { webhookId: a.failing.id, eventType: '*' } },
      { document: webhookHealthChangedSubscription, variables: { webhookId: a.failing.id } },
    ];
    for (const { document, variables } of cases) {
      const subscription = subscribe(asClientOfB, document, variables);
      await waitFor(() => subscription.errors.length > 0, { description: 'the subscription to be refused' });
      expect(subscriptionErrorCodes(subscription.errors)).toEqual(['NOT_FOUND']);
      expect(subscription.received).toEqual([]);
    }
    // The same filters are accepted for A.
    const healthOfA = subscribe(client(a.apiKey), webhookHealthChangedSubscription, { webhookId: a.failing.id });
    const updatesOfA = subscribe(client(a.apiKey), deliveryUpdatedSubscription, { webhookId: a.hook.id });
    await waitFor(
      async () => {
        // Published until the subscription, once registered, hears one.
        await asA(publishMutation, { input: { type: 'contact.updated', data: {} } });
        return waitFor(() => updatesOfA.received.length > 0, { timeoutMs: 500 }).catch(() => false);
      },
      { timeoutMs: 30_000, description: "A's filtered update" },
    );
    expect(healthOfA.errors).toEqual([]);
    expect(updatesOfA.errors).toEqual([]);
  });

  test('webhookHealthChanged carries B’s webhooks only, when A’s and B’s webhooks turn FAILING together', async () => {
    const failingOfB = dataOf(
      await asB(`mutation ($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: { name: 'b failing', url: `${receiverB.url}/fail`, eventTypes: ['message.status'], retryScheduleSeconds: [] },
      }),
    ).createWebhook;
    const eventOfB = dataOf(await asB(publishMutation, { input: { type: 'message.status', data: { status: 'failed' } } })).publishEvent;
    const failedOfB = (await database.pool.query('select id from delivery where event_id = $1 and webhook_id = $2', [eventOfB.id, failingOfB.id])).rows[0].id;
    await waitForDeliveryStatus(failedOfB, 'FAILED');

    const ofA = await healthChangesWhenActive(a.apiKey, a.projectId);
    const ofB = await healthChangesWhenActive(b.apiKey, b.projectId);
    // One sweep finds A's two failing webhooks and B's one.
    const swept = await app.sweeps.webhookHealth.run();
    expect(swept.failing.map((change) => change.id).sort()).toEqual([a.failing.id, a.retrying.id, failingOfB.id].sort());

    await waitFor(() => ofA.changes().some((change) => change.webhookId === a.failing.id) && ofA.changes().some((change) => change.webhookId === a.retrying.id), {
      description: "A's FAILING notices",
    });
    await waitFor(() => ofB.changes().some((change) => change.webhookId === failingOfB.id), { description: "B's FAILING notice" });
    // A notice sent after A's reached A's subscriber: once it reaches B's, B has heard all it ever will of the sweep.
    const lastProbe = await ofB.sendProbe();
    await waitFor(() => ofB.changes().some((change) => change.webhookId === lastProbe), { description: "B's last probe" });

    expect(ofB.changes().filter((change) => change.webhookId === a.failing.id || change.webhookId === a.retrying.id)).toEqual([]);
    expect(ofB.changes().filter((change) => change.webhookId === failingOfB.id)).toEqual([{ webhookId: failingOfB.id, kind: 'FAILING', webhook: { id: failingOfB.id } }]);
    expect(ofA.changes().filter((change) => change.webhookId === failingOfB.id)).toEqual([]);
  });
});
