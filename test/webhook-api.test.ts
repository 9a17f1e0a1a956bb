/**
 * The webhook operations over GraphQL: create, read, list, update, stop/start, delete, rotate
 * the signing secret, and what bad input gets. Each test runs on its own database; deliveries
 * are only sent while a test has a dispatching app running.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { v7 as uuidv7 } from 'uuid';
import type { Hookline } from '../src/server/hookline.js';
import { startTestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { graphql, graphqlData, publishEvent, type GraphQLResult } from './support/graphql.js';
import type { ReceivedRequest, Receiver } from './support/receiver.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';

const defaultSchedule = [10, 60, 300, 1800, 3600, 10800, 21600, 43200];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const webhookSelection = `id name url method eventTypes channels statuses active timeoutMs secret retryScheduleSeconds
  effectiveRetryScheduleSeconds bodyFormat headers { key value type } previousSecretExpiresAt createdAt updatedAt`;

const createMutation = `mutation ($input: WebhookInput!) { createWebhook(input: $input) { ${webhookSelection} } }`;
const updateMutation = `mutation ($id: ID!, $input: WebhookPatch!) { updateWebhook(id: $id, input: $input) { ${webhookSelection} } }`;
const stopMutation = `mutation ($id: ID!) { stopWebhook(id: $id) { ${webhookSelection} } }`;
const startMutation = `mutation ($id: ID!) { startWebhook(id: $id) { ${webhookSelection} } }`;
const rotateMutation = `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { ${webhookSelection} } }`;
const deleteMutation = `mutation ($id: ID!) { deleteWebhook(id: $id) }`;
const webhookQuery = `query ($id: ID!) { webhook(id: $id) { ${webhookSelection} } }`;
const webhooksQuery = `query ($first: Int, $after: String) {
  webhooks(first: $first, after: $after) { nodes { id name secret } edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;

// What each test starts is released after it (apps before their receivers and databases).
const resources = trackTestResources('each');

function newDatabase(): Promise<TestDatabase> {
  return resources.newDatabase();
}

/** `withoutDispatcher`: an API-only app, so published deliveries stay queued. */
function startApp(database: TestDatabase, options: { withoutDispatcher?: boolean } = {}): Promise<Hookline> {
  return resources.newApp({ databaseUrl: database.url, ...options });
}

function newReceiver(): Promise<Receiver> {
  return resources.newReceiver();
}

// ---- Small helpers ----

async function create(app: Hookline, input: Record<string, unknown>): Promise<any> {
  return (await graphqlData(app.url, createMutation, { input: { name: 'test', eventTypes: ['*'], ...input } })).createWebhook;
}

function expectError(result: GraphQLResult, code: string, field?: string): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions?.code).toBe(code);
  if (field !== undefined) expect(result.errors![0]!.extensions?.['field']).toBe(field);
  expect(result.data ?? null).toBeNull();
}

async function count(database: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await database.pool.query(sql, params)).rows[0].count);
}

async function deliveryRows(database: TestDatabase, webhookId: string) {
  const result = await database.pool.query(
    'select id, status, next_attempt_at, attempt_count from delivery where webhook_id = $1 order by id',
    [webhookId],
  );
  return result.rows as { id: string; status: string; next_attempt_at: Date | null; attempt_count: number }[];
}

function headersOf(request: ReceivedRequest): Record<string, string> {
  return request.headers as Record<string, string>;
}

/** Lets a dispatcher claim and finish everything that is due right now. */
async function drain(app: Hookline): Promise<void> {
  await app.dispatcher.runOnce();
  await app.dispatcher.whenIdle();
}

describe('createWebhook, webhook(id) and webhooks', () => {
  test('createWebhook answers with an id, the full signing secret and the defaults, and stores that secret', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });

    const created = await create(api, { name: 'status updates', url: 'http://127.0.0.1:9/hooks/status', eventTypes: ['message.status'] });

    expect(created.id).toMatch(uuidPattern);
    expect(created).toMatchObject({
      name: 'status updates',
      url: 'http://127.0.0.1:9/hooks/status',
      eventTypes: ['message.status'],
      method: 'POST',
      bodyFormat: 'JSON',
      timeoutMs: 10000,
      active: true,
      channels: [],
      statuses: [],
      headers: [],
      retryScheduleSeconds: null,
      effectiveRetryScheduleSeconds: defaultSchedule,
      previousSecretExpiresAt: null,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    // A receiver can build its verifier from the secret as given (valid base64 after the prefix).
    expect(() => new Webhook(created.secret)).not.toThrow();

    const { rows } = await database.pool.query('select secret, method, body_format, timeout_ms, active, retry_schedule_seconds from webhook where id = $1', [created.id]);
    expect(rows).toEqual([{ secret: created.secret, method: 'POST', body_format: 'JSON', timeout_ms: 10000, active: true, retry_schedule_seconds: null }]);
  });

  test('webhook(id) returns the webhook with its secret masked', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const created = await create(api, { name: 'masked', url: 'http://127.0.0.1:9/hook', eventTypes: ['contact.updated'] });

    const { webhook } = await graphqlData(api.url, webhookQuery, { id: created.id });

    expect(webhook).toMatchObject({ id: created.id, name: 'masked', url: 'http://127.0.0.1:9/hook', eventTypes: ['contact.updated'], active: true });
    expect(webhook.secret).toMatch(/^whsec_/);
    expect(webhook.secret).not.toBe(created.secret);
    expect(webhook.secret).not.toContain(created.secret.slice('whsec_'.length));
  });

  test('webhooks pages through every webhook exactly once, newest first', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const createdIds: string[] = [];
    const fullSecrets: string[] = [];
    for (let index = 1; index <= 7; index++) {
      const webhook = await create(api, { name: `hook ${index}`, url: `http://127.0.0.1:9/hook/${index}` });
      createdIds.push(webhook.id);
      fullSecrets.push(webhook.secret);
    }

    const pages: any[] = [];
    let after: string | null = null;
    do {
      const page: any = (await graphqlData(api.url, webhooksQuery, { first: 3, after })).webhooks;
      pages.push(page);
      after = page.pageInfo.endCursor;
    } while (pages[pages.length - 1].pageInfo.hasNextPage && pages.length < 10);

    expect(pages.map((page) => page.nodes.length)).toEqual([3, 3, 1]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    const listedIds = pages.flatMap((page) => page.nodes.map((node: any) => node.id));
    expect(listedIds).toEqual([...createdIds].reverse());
    for (const page of pages) {
      expect(page.edges.map((edge: any) => edge.node.id)).toEqual(page.nodes.map((node: any) => node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
      for (const node of page.nodes) {
        expect(node.secret).toMatch(/^whsec_/);
        expect(fullSecrets).not.toContain(node.secret);
      }
    }
  });
});

describe('updateWebhook', () => {
  test('changes only the fields given', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const created = await create(api, {
      name: 'before',
      url: 'http://127.0.0.1:9/orders',
      eventTypes: ['message.*'],
      headers: [{ key: 'X-Team', value: 'blue' }],
      timeoutMs: 2500,
      retryScheduleSeconds: [5, 30],
    });

    const { updateWebhook } = await graphqlData(api.url, updateMutation, { id: created.id, input: { name: 'after' } });

    expect(updateWebhook).toMatchObject({
      id: created.id,
      name: 'after',
      url: 'http://127.0.0.1:9/orders',
      eventTypes: ['message.*'],
      headers: [{ key: 'X-Team', value: 'blue', type: 'TEXT' }],
      timeoutMs: 2500,
      retryScheduleSeconds: [5, 30],
      method: 'POST',
      active: true,
    });
    const { rows } = await database.pool.query('select name, url, event_types, timeout_ms, retry_schedule_seconds, secret from webhook where id = $1', [created.id]);
    expect(rows).toEqual([{ name: 'after', url: 'http://127.0.0.1:9/orders', event_types: ['message.*'], timeout_ms: 2500, retry_schedule_seconds: [5, 30], secret: created.secret }]);
  });

  test('an explicit invalid value is refused and the stored webhook is left as it was', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const created = await create(api, { name: 'steady', url: 'http://127.0.0.1:9/steady', eventTypes: ['message.status'] });
    const before = (await database.pool.query('select * from webhook where id = $1', [created.id])).rows[0];

    expectError(await graphql(api.url, updateMutation, { id: created.id, input: { url: 'ftp://elsewhere/' } }), 'BAD_USER_INPUT', 'url');
    // A valid field next to an invalid one is not applied either.
    expectError(await graphql(api.url, updateMutation, { id: created.id, input: { name: 'renamed', timeoutMs: 5 } }), 'BAD_USER_INPUT', 'timeoutMs');
    expectError(await graphql(api.url, updateMutation, { id: created.id, input: { name: null } }), 'BAD_USER_INPUT', 'name');
    expectError(await graphql(api.url, updateMutation, { id: created.id, input: { eventTypes: [] } }), 'BAD_USER_INPUT', 'eventTypes');

    const after = (await database.pool.query('select * from webhook where id = $1', [created.id])).rows[0];
    expect(after).toEqual(before);
    expect((await graphqlData(api.url, webhookQuery, { id: created.id })).webhook).toMatchObject({ name: 'steady', url: 'http://127.0.0.1:9/steady', timeoutMs: 10000 });
  });
});

describe('stopWebhook and startWebhook', () => {
  test('a webhook stopped before an event is published gets no delivery of it, even once started again', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const receiver = await newReceiver();
    const webhook = await create(app, { url: `${receiver.url}/stopped`, eventTypes: ['contact.updated'] });

    const { stopWebhook } = await graphqlData(app.url, stopMutation, { id: webhook.id });
    expect(stopWebhook).toMatchObject({ id: webhook.id, active: false });
    expect((await database.pool.query('select active from webhook where id = $1', [webhook.id])).rows).toEqual([{ active: false }]);

    for (let index = 0; index < 3; index++) await publishEvent(app.url, { type: 'contact.updated', data: { index } });
    expect(await count(database, `select count(*) from event where type = 'contact.updated'`)).toBe(3);
    expect(await deliveryRows(database, webhook.id)).toEqual([]);
    await drain(app);
    expect(receiver.requests).toHaveLength(0);

    const { startWebhook } = await graphqlData(app.url, startMutation, { id: webhook.id });
    expect(startWebhook).toMatchObject({ id: webhook.id, active: true });
    await drain(app);
    expect(receiver.requests).toHaveLength(0);
    expect(await deliveryRows(database, webhook.id)).toEqual([]);

    // Once active, the next event does arrive: the silence above was the stop, not a broken receiver.
    const later = await publishEvent(app.url, { type: 'contact.updated', data: { index: 3 } });
    await waitFor(() => receiver.requests.length === 1, { description: 'the event published after the start' });
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ id: later.id, data: { index: 3 } });
  });

  test('deliveries queued before stopWebhook wait, not due, until startWebhook, and then all arrive', async () => {
    const database = await newDatabase();
    const api = await startApp(database, { withoutDispatcher: true });
    const receiver = await newReceiver();
    const webhook = await create(api, { url: `${receiver.url}/paused`, eventTypes: ['message.received'] });
    const events = [];
    for (let index = 0; index < 3; index++) events.push(await publishEvent(api.url, { type: 'message.received', channel: 'sms', data: { index } }));

    const queued = await deliveryRows(database, webhook.id);
    expect(queued).toHaveLength(3);
    for (const row of queued) {
      expect(row.status).toBe('PENDING');
      expect(row.next_attempt_at).not.toBeNull();
    }

    await graphqlData(api.url, stopMutation, { id: webhook.id });
    const paused = await deliveryRows(database, webhook.id);
    expect(paused.map((row) => ({ id: row.id, status: row.status, next_attempt_at: row.next_attempt_at }))).toEqual(
      queued.map((row) => ({ id: row.id, status: 'PENDING', next_attempt_at: null })),
    );

    // A dispatcher that looks now finds nothing due for the stopped webhook.
    const live = await startApp(database);
    await drain(live);
    expect(receiver.requests).toHaveLength(0);
    expect((await deliveryRows(database, webhook.id)).map((row) => [row.status, row.next_attempt_at, row.attempt_count])).toEqual([
      ['PENDING', null, 0],
      ['PENDING', null, 0],
      ['PENDING', null, 0],
    ]);

    const { startWebhook } = await graphqlData(api.url, startMutation, { id: webhook.id });
    expect(startWebhook.active).toBe(true);
    await waitFor(() => receiver.requests.length === 3, { description: 'the three held deliveries' });
    await waitFor(async () => (await deliveryRows(database, webhook.id)).every((row) => row.status === 'SUCCEEDED'), { description: 'all three SUCCEEDED' });

    const verifier = new Webhook(webhook.secret);
    const receivedEventIds = receiver.requests.map((request) => (verifier.verify(request.body, headersOf(request)) as { id: string }).id);
    expect(receivedEventIds.sort()).toEqual(events.map((event) => event.id).sort());
    expect(receiver.requests.map((request) => request.headers['webhook-id']).sort()).toEqual(queued.map((row) => row.id).sort());
  });
});

describe('deleteWebhook', () => {
  test('cancels queued deliveries, keeps past ones queryable, and the webhook is gone', async () => {
    const database = await newDatabase();
    const receiver = await newReceiver();
    const api = await startApp(database, { withoutDispatcher: true });
    const webhook = await create(api, { url: `${receiver.url}/doomed`, eventTypes: ['message.status'] });

    // One delivery sent while a dispatcher ran...
    const live = await startApp(database);
    const sentEvent = await publishEvent(api.url, { type: 'message.status', channel: 'sms', data: { status: 'delivered' } });
    await waitFor(async () => (await deliveryRows(database, webhook.id)).some((row) => row.status === 'SUCCEEDED'), { description: 'the first delivery' });
    await live.stop();
    // ...and two queued after it stopped.
    const queuedEvents = [
      await publishEvent(api.url, { type: 'message.status', channel: 'sms', data: { status: 'failed' } }),
      await publishEvent(api.url, { type: 'message.status', channel: 'sms', data: { status: 'read' } }),
    ];
    const rowsBefore = await deliveryRows(database, webhook.id);
    expect(rowsBefore.map((row) => row.status)).toEqual(['SUCCEEDED', 'PENDING', 'PENDING']);
    const [sentId, ...queuedIds] = rowsBefore.map((row) => row.id);

    expect((await graphqlData(api.url, deleteMutation, { id: webhook.id })).deleteWebhook).toBe(true);

    const { rows } = await database.pool.query('select id, status, webhook_id, next_attempt_at from delivery where id = any($1::uuid[]) order by id', [rowsBefore.map((row) => row.id)]);
    expect(rows).toEqual([
      { id: sentId, status: 'SUCCEEDED', webhook_id: null, next_attempt_at: null },
      ...queuedIds.map((id) => ({ id, status: 'CANCELLED', webhook_id: null, next_attempt_at: null })),
    ]);
    expect(await count(database, 'select count(*) from webhook where id = $1', [webhook.id])).toBe(0);
    expect((await graphqlData(api.url, webhookQuery, { id: webhook.id })).webhook).toBeNull();
    expectError(await graphql(api.url, deleteMutation, { id: webhook.id }), 'NOT_FOUND');

    const deliveryQuery = `query ($id: ID!) { delivery(id: $id) { id status webhook { id } event { id } attempts { number success responseStatus } } }`;
    expect((await graphqlData(api.url, deliveryQuery, { id: sentId })).delivery).toEqual({
      id: sentId,
      status: 'SUCCEEDED',
      webhook: null,
      event: { id: sentEvent.id },
      attempts: [{ number: 1, success: true, responseStatus: 200 }],
    });
    for (const [index, id] of queuedIds.entries()) {
      expect((await graphqlData(api.url, deliveryQuery, { id })).delivery).toEqual({ id, status: 'CANCELLED', webhook: null, event: { id: queuedEvents[index].id }, attempts: [] });
    }

    // Cancelled means never sent, whatever dispatcher comes along later.
    const another = await startApp(database);
    await drain(another);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('rotateWebhookSecret', () => {
  test('returns a new full secret; later requests carry two signatures, one from the new and one from the old secret', async () => {
    const database = await newDatabase();
    const app = await startApp(database);
    const receiver = await newReceiver();
    const webhook = await create(app, { url: `${receiver.url}/rotating`, eventTypes: ['message.received'] });
    const oldSecret: string = webhook.secret;

    await publishEvent(app.url, { type: 'message.received', channel: 'sms', data: { text: 'before' } });
    await waitFor(() => receiver.requests.length === 1, { description: 'the request before the rotation' });
    const beforeRotation = receiver.requests[0]!;
    expect(String(beforeRotation.headers['webhook-signature']).split(' ')).toHaveLength(1);
    new Webhook(oldSecret).verify(beforeRotation.body, headersOf(beforeRotation));

    const { rotateWebhookSecret } = await graphqlData(app.url, rotateMutation, { id: webhook.id });
    const newSecret: string = rotateWebhookSecret.secret;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotateWebhookSecret.id).toBe(webhook.id);
    const expiresAt = new Date(rotateWebhookSecret.previousSecretExpiresAt).getTime();
    expect(expiresAt).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(expiresAt).toBeLessThan(Date.now() + 25 * 3600_000);
    expect((await database.pool.query('select secret, previous_secret from webhook where id = $1', [webhook.id])).rows).toEqual([
      { secret: newSecret, previous_secret: oldSecret },
    ]);

    const event = await publishEvent(app.url, { type: 'message.received', channel: 'sms', data: { text: 'after' } });
    await waitFor(() => receiver.requests.length === 2, { description: 'the request after the rotation' });
    const request = receiver.requests[1]!;
    const signatures = String(request.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);

    expect(new Webhook(newSecret).verify(request.body, headersOf(request))).toMatchObject({ id: event.id });
    expect(new Webhook(oldSecret).verify(request.body, headersOf(request))).toMatchObject({ id: event.id });
    // Each signature on its own: one is the new secret's, the other the old one's.
    const signers = signatures.map((signature) => {
      const single = { ...headersOf(request), 'webhook-signature': signature };
      return [newSecret, oldSecret].filter((secret) => {
        try {
          new Webhook(secret).verify(request.body, single);
          return true;
        } catch {
          return false;
        }
      });
    });
    expect(signers.flat().sort()).toEqual([newSecret, oldSecret].sort());
    expect(signers.every((secrets) => secrets.length === 1)).toBe(true);
  });
});

describe('bad input gets a coded error and stores nothing', () => {
  let database: TestDatabase;
  let api: Hookline;
  let existing: { id: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
    existing = await create(api, { name: 'existing', url: 'http://127.0.0.1:9/existing', eventTypes: ['message.status'] });
  });

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  const valid = { name: 'bad input', url: 'http://127.0.0.1:9/hook', eventTypes: ['message.status'] };

  test.each<[string, Record<string, unknown>, string]>([
    ['an ftp url', { url: 'ftp://x' }, 'url'],
    ['a url that is not one', { url: 'not a url' }, 'url'],
    ['a url with credentials', { url: 'http://u:p@host/' }, 'url'],
    ['no event types', { eventTypes: [] }, 'eventTypes'],
    ['an invalid event type', { eventTypes: ['bad type!'] }, 'eventTypes'],
    // Published event types cannot hold spaces, so such a pattern could never match anything.
    ['an event type with a space', { eventTypes: ['message status'] }, 'eventTypes'],
    ['a Content-Length header', { headers: [{ key: 'Content-Length', value: '10' }] }, 'headers'],
    ['a header value with CR LF', { headers: [{ key: 'X-Note', value: 'a\r\nInjected: yes' }] }, 'headers'],
    ['a header name with a space', { headers: [{ key: 'X Note', value: 'a' }] }, 'headers'],
    ['timeoutMs 5', { timeoutMs: 5 }, 'timeoutMs'],
    ['timeoutMs 10^9', { timeoutMs: 1_000_000_000 }, 'timeoutMs'],
    ['a retry delay of 0 s', { retryScheduleSeconds: [0] }, 'retryScheduleSeconds'],
    ['BEARER auth without a token', { auth: { type: 'BEARER' } }, 'auth.token'],
    ['API_KEY auth without a name', { auth: { type: 'API_KEY', value: 'secret-value' } }, 'auth.name'],
  ])('createWebhook with %s: BAD_USER_INPUT', async (_case, change, field) => {
    const before = await count(database, 'select count(*) from webhook');
    expectError(await graphql(api.url, createMutation, { input: { ...valid, ...change } }), 'BAD_USER_INPUT', field);
    expect(await count(database, 'select count(*) from webhook')).toBe(before);
  });

  test('the same input without the mistake is stored (the cases above are refused for their mistake alone)', async () => {
    const before = await count(database, 'select count(*) from webhook');
    await create(api, valid);
    expect(await count(database, 'select count(*) from webhook')).toBe(before + 1);
  });

  test.each<[string, string, Record<string, unknown>]>([
    ['updateWebhook', updateMutation, { input: { name: 'renamed' } }],
    ['startWebhook', startMutation, {}],
    ['stopWebhook', stopMutation, {}],
    ['deleteWebhook', deleteMutation, {}],
    ['rotateWebhookSecret', rotateMutation, {}],
  ])('%s with an unknown or malformed id: NOT_FOUND, nothing changes', async (_name, mutation, variables) => {
    const before = (await database.pool.query('select * from webhook order by id')).rows;
    expectError(await graphql(api.url, mutation, { id: uuidv7(), ...variables }), 'NOT_FOUND');
    expectError(await graphql(api.url, mutation, { id: 'nope', ...variables }), 'NOT_FOUND');
    expect((await database.pool.query('select * from webhook order by id')).rows).toEqual(before);
  });

  test('webhook(id) with an unknown or malformed id is null', async () => {
    expect(await graphql(api.url, webhookQuery, { id: uuidv7() })).toEqual({ data: { webhook: null } });
    expect(await graphql(api.url, webhookQuery, { id: 'nope' })).toEqual({ data: { webhook: null } });
    expect((await graphqlData(api.url, webhookQuery, { id: existing.id })).webhook.id).toBe(existing.id);
  });

  test('webhooks with a malformed cursor or a page size out of range: BAD_USER_INPUT', async () => {
    expectError(await graphql(api.url, webhooksQuery, { first: 3, after: 'not-a-cursor' }), 'BAD_USER_INPUT', 'after');
    expectError(await graphql(api.url, webhooksQuery, { first: 0 }), 'BAD_USER_INPUT', 'first');
    expectError(await graphql(api.url, webhooksQuery, { first: 501 }), 'BAD_USER_INPUT', 'first');
  });
});
