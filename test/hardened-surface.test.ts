/**
 * The hardened API surface: operation limits (depth, aliases, cost, page size, request body,
 * event data, CSRF, batching), secrets kept out of logs, stored attempts and query answers,
 * and a table of bad input tried for real against a running server.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig, type Config } from '../src/config.js';
import { operationLimits } from '../src/graphql/limits.js';
import { createLogger } from '../src/logger.js';
import { startHookline, type Hookline } from '../src/server/hookline.js';
import { startTestApp } from './support/app.js';
import type { TestDatabase } from './support/database.js';
import {
  apiKeyFor,
  createWebhook,
  createWebhookMutation,
  graphql,
  graphqlData,
  publishEvent,
  publishEventMutation,
  registerApiKey,
  subscribe,
  webhookFields,
  webSocketClient,
} from './support/graphql.js';
import { startReceiver } from './support/receiver.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';

// Everything started here is released after the file (apps before their receivers and databases).
const resources = trackTestResources('all');

function newDatabase(): Promise<TestDatabase> {
  return resources.newDatabase();
}

const storedTables = ['webhook', 'event', 'delivery', 'attempt', 'api_key'] as const;
type RowCounts = Record<(typeof storedTables)[number], number>;

async function rowCounts(database: TestDatabase): Promise<RowCounts> {
  const counts = {} as RowCounts;
  for (const table of storedTables) counts[table] = Number((await database.pool.query(`select count(*) as n from ${table}`)).rows[0].n);
  return counts;
}

interface HttpAnswer {
  status: number;
  body: any;
}

/** A raw POST to the GraphQL endpoint with the app's key: the body is sent exactly as given. */
async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKeyFor(url)}`, ...headers },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, body: parsed };
}

function firstError(answer: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) {
  expect(answer.errors?.length).toBeGreaterThan(0);
  return answer.errors![0]!;
}

describe('limits', () => {
  let database: TestDatabase;
  let app: Hookline;

  beforeAll(async () => {
    database = await newDatabase();
    app = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true, config: { limits: { maximumRequestBytes: 4096, maximumEventDataBytes: 1024 } } });
    resources.onCleanup(() => app.stop());
  });

  /** deliveries → edges → node → event → deliveries → event → …: `levels` fields deep. */
  function deepDeliveries(levels: number): string {
    let selection = 'id';
    for (let level = 0; level < levels; level++) selection = `${level % 2 === 0 ? 'deliveries' : 'event'} { ${selection} }`;
    return selection;
  }

  test('a query nested deeper than 10 is refused with GRAPHQL_VALIDATION_FAILED, and a mutation that deep stores nothing', async () => {
    // deliveries(1) edges(2) node(3) event(4) deliveries(5) event(6) deliveries(7) event(8) deliveries(9) event(10) deliveries(11) id(12)
    const deep = await graphql(app.url, `{ deliveries { edges { node { ${deepDeliveries(8)} } } } }`);
    expect(deep.data ?? null).toBeNull();
    expect(firstError(deep).extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(deep).message).toMatch(/depth limit of 10 exceeded/i);

    // The deepest useful query (7 levels) is answered.
    const useful = await graphql(app.url, `{ deliveries { edges { node { event { deliveries { attempts { id } } } } } } }`);
    expect(useful.errors).toBeUndefined();

    const before = await rowCounts(database);
    const mutation = await graphql(app.url, `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { ${deepDeliveries(11)} } }`, {
      input: { type: 'limit.depth', data: {} },
    });
    expect(firstError(mutation).extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(mutation).message).toMatch(/depth limit of 10 exceeded/i);
    expect(await rowCounts(database)).toEqual(before);
  });

  test('16 aliases are refused with GRAPHQL_VALIDATION_FAILED and nothing is executed; 15 are answered', async () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `e${i}: publishEvent(input: $input) { id }`).join(' ');
    const before = await rowCounts(database);
    const refused = await graphql(app.url, `mutation ($input: PublishEventInput!) { ${aliases(16)} }`, { input: { type: 'limit.aliases', data: {} } });
    expect(refused.data ?? null).toBeNull();
    expect(firstError(refused).extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(refused).message).toMatch(/aliases limit of 15 exceeded, found 16/i);
    expect(await rowCounts(database)).toEqual(before);

    const answered = await graphql(app.url, `mutation ($input: PublishEventInput!) { ${aliases(15)} }`, { input: { type: 'limit.aliases', data: {} } });
    expect(answered.errors).toBeUndefined();
    expect((await rowCounts(database)).event).toBe(before.event + 15);
  });

  test('a costly query is refused with GRAPHQL_VALIDATION_FAILED, and a costly mutation stores nothing', async () => {
    // One full page (500 deliveries with their event, webhook and attempts) is within the cost limit…
    const page = (alias: string) =>
      `${alias}: deliveries(first: 500) { edges { cursor node { id status attemptCount nextAttemptAt event { id type data } webhook { id name } attempts { number success responseStatus durationMs } } } pageInfo { hasNextPage endCursor } }`;
    const onePage = await graphql(app.url, `{ ${page('a')} }`);
    expect(onePage.errors).toBeUndefined();
    // …four of them in one operation (within the depth and alias limits) are not.
    const costly = await graphql(app.url, `{ ${['a', 'b', 'c', 'd'].map(page).join(' ')} }`);
    expect(costly.data ?? null).toBeNull();
    expect(firstError(costly).extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(costly).message).toMatch(new RegExp(`cost limit of ${operationLimits.maxCost} exceeded`, 'i'));

    // One nested fragment spread 500 times: a small request (under this app's 4 KB), a large cost.
    const before = await rowCounts(database);
    const spreads = Array.from({ length: 500 }, () => '...E').join(' ');
    const mutation = await graphql(
      app.url,
      `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { ${spreads} } } fragment E on Event { deliveries { event { deliveries { event { deliveries { attempts { number success responseStatus } } } } } } }`,
      { input: { type: 'limit.cost', data: {} } },
    );
    expect(firstError(mutation).extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(mutation).message).toMatch(new RegExp(`cost limit of ${operationLimits.maxCost} exceeded`, 'i'));
    expect(await rowCounts(database)).toEqual(before);
  });

  test('a subscription nested deeper than 10, or too costly, is refused over graphql-ws with the same code', async () => {
    const client = webSocketClient(app.url);
    try {
      const deep = subscribe(client, `subscription { deliveryUpdated { ${deepDeliveries(11)} } }`);
      const spreads = Array.from({ length: 500 }, () => '...D').join(' ');
      const costly = subscribe(
        client,
        `subscription { deliveryUpdated { ${spreads} } } fragment D on Delivery { event { deliveries { event { deliveries { attempts { number success responseStatus } } } } } }`,
      );
      await waitFor(() => deep.errors.length > 0 && costly.errors.length > 0, { description: 'both refusals' });
      const [deepErrors, costlyErrors] = [deep.errors[0], costly.errors[0]] as { message: string; extensions?: Record<string, unknown> }[][];
      expect(deepErrors![0]!.message).toMatch(/depth limit of 10 exceeded/i);
      expect(deepErrors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
      expect(costlyErrors![0]!.message).toMatch(new RegExp(`cost limit of ${operationLimits.maxCost} exceeded`, 'i'));
      expect(costlyErrors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
      expect([...deep.received, ...costly.received]).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  test('a page of 501 is refused with BAD_USER_INPUT; 500 is answered', async () => {
    const refused = await graphql(app.url, `{ webhooks(first: 501) { nodes { id } } }`);
    expect(firstError(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(firstError(refused).message).toMatch(/from 1 to 500/);
    const answered = await graphql(app.url, `{ webhooks(first: 500) { nodes { id } } }`);
    expect(answered.errors).toBeUndefined();
  });

  test('a request body over the limit is refused with HTTP 413 and PAYLOAD_TOO_LARGE, and nothing is stored', async () => {
    const before = await rowCounts(database);
    const body = JSON.stringify({ query: publishEventMutation, variables: { input: { type: 'limit.body', data: { text: 'x'.repeat(5000) } } } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(4096);
    const answer = await post(app.url, body);
    expect(answer.status).toBe(413);
    expect(answer.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(answer.body.errors[0].message).toMatch(/over 4096 bytes/);
    expect(await rowCounts(database)).toEqual(before);
  });

  test('event data over maximumEventDataBytes is refused with BAD_USER_INPUT naming data, and nothing is stored', async () => {
    const before = await rowCounts(database);
    const refused = await graphql(app.url, publishEventMutation, { input: { type: 'limit.data', data: { text: 'x'.repeat(2000) } } });
    expect(firstError(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.data', limitBytes: 1024 });
    expect(firstError(refused).message).toMatch(/input\.data is \d+ bytes as JSON, over the limit of 1024/);
    expect(await rowCounts(database)).toEqual(before);

    // Just under the limit is stored.
    await publishEvent(app.url, { type: 'limit.data', data: { text: 'x'.repeat(1000) } });
    expect((await rowCounts(database)).event).toBe(before.event + 1);
  });

  test('CSRF prevention: a simple GET without a preflight header is refused even with a valid key', async () => {
    const authorization = `Bearer ${apiKeyFor(app.url)}`;
    const url = `${app.url}?query=${encodeURIComponent('{__typename}')}`;

    const simple = await fetch(url, { headers: { authorization } });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF/);

    // The same GET with Apollo's preflight header, and a JSON POST, are answered.
    const preflighted = await fetch(url, { headers: { authorization, 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { __typename: 'Query' } });
    const posted = await post(app.url, JSON.stringify({ query: '{__typename}' }));
    expect(posted).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  test('batched HTTP requests (a JSON array) are refused, and nothing is executed', async () => {
    const before = await rowCounts(database);
    const operation = { query: publishEventMutation, variables: { input: { type: 'limit.batch', data: {} } } };
    const answer = await post(app.url, JSON.stringify([operation, operation]));
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toMatch(/batching/i);
    expect(await rowCounts(database)).toEqual(before);
  });
});

describe('secrets', () => {
  test('auth values, secret fields, callback and signing secrets never appear in logs, stored attempts or query answers, but do reach the receiver', async () => {
    const database = await newDatabase();
    const receiver = await startReceiver();
    resources.onCleanup(() => receiver.close());
    // Webhook paths fail once (500) and then succeed; the callback succeeds at once (its default schedule is long).
    const seen = new Map<string, number>();
    receiver.setScript((request) => {
      const requestPath = request.url.split('?')[0]!;
      const times = (seen.get(requestPath) ?? 0) + 1;
      seen.set(requestPath, times);
      return requestPath !== '/callback' && times === 1 ? { status: 500, body: 'try again' } : { status: 200, body: 'ok' };
    });

    const logLines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const base = loadConfig({});
    const config: Config = {
      ...base,
      port: 0,
      host: '127.0.0.1',
      databaseUrl: database.url,
      dataDir: await mkdtemp(path.join(os.tmpdir(), 'hookline-test-data-')),
      network: { allowPrivateNetworks: true },
      dispatcher: { ...base.dispatcher, shutdownGraceMs: 2000 },
    };
    const app = await startHookline({ config, logger: createLogger('trace', destination) });
    resources.onCleanup(() => app.stop());
    registerApiKey(app.url, database.apiKey);

    const secrets = {
      bearer: 'bearer-sekrit-1',
      basic: 'basic-sekrit-2',
      apiKeyHeader: 'apikey-sekrit-3',
      apiKeyQuery: 'query-sekrit-4',
      bodyField: 'field-sekrit-5',
      callback: 'callback-sekrit-6',
      secretHeader: 'header-sekrit-7',
    };
    const basicCredentials = Buffer.from(`user:${secrets.basic}`).toString('base64');
    const common = { eventTypes: ['secret.test'], retryScheduleSeconds: [1] };
    const webhooks = [
      await createWebhook(app.url, { ...common, name: 'bearer', url: `${receiver.url}/bearer`, auth: { type: 'BEARER', token: secrets.bearer } }),
      await createWebhook(app.url, { ...common, name: 'basic', url: `${receiver.url}/basic`, auth: { type: 'BASIC', username: 'user', password: secrets.basic } }),
      await createWebhook(app.url, { ...common, name: 'api key header', url: `${receiver.url}/apikey-header`, auth: { type: 'API_KEY', name: 'X-Api-Key', value: secrets.apiKeyHeader, in: 'HEADER' } }),
      await createWebhook(app.url, { ...common, name: 'api key query', url: `${receiver.url}/apikey-query`, auth: { type: 'API_KEY', name: 'api_key', value: secrets.apiKeyQuery, in: 'QUERY' } }),
      await createWebhook(app.url, {
        ...common,
        name: 'secret field and header',
        url: `${receiver.url}/field`,
        headers: [{ key: 'X-Shared-Key', value: secrets.secretHeader, secret: true }],
        bodyFields: [
          { key: 'type', value: 'type', type: 'VARIABLE' },
          { key: 'secret', value: secrets.bodyField, secret: true },
        ],
      }),
    ];
    const signingSecrets = webhooks.map((webhook) => webhook.secret as string);
    expect(signingSecrets.every((secret) => secret.startsWith('whsec_'))).toBe(true);

    await publishEvent(app.url, { type: 'secret.test', data: { n: 1 } });
    const callbackEvent = await publishEvent(app.url, { type: 'secret.callback', data: { n: 2 }, callbackUrl: `${receiver.url}/callback`, callbackSecret: secrets.callback });

    await waitFor(
      async () => (await database.pool.query(`select 1 from delivery where status = 'SUCCEEDED'`)).rowCount === webhooks.length + 1,
      { description: 'every delivery to succeed', timeoutMs: 20_000 },
    );
    const attempts = await database.pool.query(`select success, response_status from attempt`);
    expect(attempts.rows.filter((row) => row.response_status === 500)).toHaveLength(webhooks.length);
    expect(attempts.rows.filter((row) => row.success)).toHaveLength(webhooks.length + 1);

    // The receiver got every secret: the assertions below could fail.
    const requestTo = (requestPath: string) => receiver.requests.find((request) => request.url.split('?')[0] === requestPath)!;
    expect(requestTo('/bearer').headers['authorization']).toBe(`Bearer ${secrets.bearer}`);
    expect(requestTo('/basic').headers['authorization']).toBe(`Basic ${basicCredentials}`);
    expect(requestTo('/apikey-header').headers['x-api-key']).toBe(secrets.apiKeyHeader);
    expect(requestTo('/apikey-query').url).toBe(`/apikey-query?api_key=${secrets.apiKeyQuery}`);
    expect(requestTo('/field').headers['x-shared-key']).toBe(secrets.secretHeader);
    expect(JSON.parse(requestTo('/field').body)).toEqual({ type: 'secret.test', secret: secrets.bodyField });
    expect(JSON.parse(requestTo('/callback').body)).toMatchObject({ id: callbackEvent.id, secret: secrets.callback });
    expect(receiver.requests).toHaveLength(2 * webhooks.length + 1);

    const secretValues = [...Object.values(secrets), basicCredentials];
    const expectNoSecrets = (where: string, text: string, values: string[]) => {
      const found = values.filter((value) => text.includes(value));
      expect({ where, found }).toEqual({ where, found: [] });
    };

    // Stored attempts, whole rows (request_url, request_headers, request_body and the rest).
    const storedAttempts = await database.pool.query(`select row_to_json(attempt)::text as row from attempt`);
    expect(storedAttempts.rowCount).toBe(2 * webhooks.length + 1);
    expectNoSecrets('stored attempts', storedAttempts.rows.map((row) => row.row).join('\n'), [...secretValues, ...signingSecrets]);
    // Masked, not dropped: the recorded request still shows where the secret went.
    const recorded = await database.pool.query(`select request_url, request_headers, request_body from attempt where request_url like '%/apikey-query%' limit 1`);
    expect(recorded.rows[0].request_url).toMatch(/api_key=\*+/);

    // Query answers about webhooks and attempts.
    const answers = {
      ...(await graphqlData(app.url, `{ webhooks { nodes { ${webhookFields} } } }`)),
      ...(await graphqlData(app.url, `{ deliveryAttempts { nodes { requestMethod requestUrl requestHeaders requestBody responseStatus responseHeaders responseBody error } } }`)),
      ...(await graphqlData(app.url, `{ deliveries { nodes { attempts { requestUrl requestHeaders requestBody } webhook { auth { token password value } headers { value } bodyFields { value } secret } } } }`)),
    };
    expect(answers.webhooks.nodes).toHaveLength(webhooks.length);
    expect(answers.deliveryAttempts.nodes).toHaveLength(2 * webhooks.length + 1);
    expectNoSecrets('query answers', JSON.stringify(answers), [...secretValues, ...signingSecrets]);
    for (const webhook of webhooks) {
      const preview = await graphqlData(app.url, `query ($input: TestWebhookInput!) { previewWebhookRequest(input: $input) { url headers body } }`, {
        input: { webhookId: webhook.id, eventType: 'secret.test', data: { n: 1 } },
      });
      expectNoSecrets(`preview of ${webhook.name}`, JSON.stringify(preview), [...secretValues, ...signingSecrets]);
    }

    // Logs: the app logged at trace level throughout, and none of it carries a secret.
    await app.stop();
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((line) => line.includes('attempt recorded'))).toBe(true);
    expectNoSecrets('logs', logLines.join(''), [...secretValues, ...signingSecrets]);
  });
});

describe('bad input', () => {
  interface BadInputRow {
    name: string;
    /** A GraphQL operation and its variables, or a raw request body sent as is. */
    operation?: string;
    variables?: Record<string, unknown>;
    rawBody?: string;
    /** The error code expected, or ACCEPTED for input that must be taken (and stores one webhook). */
    expected: string;
  }

  test('each bad input gets a coded error and stores nothing; printable unicode in a name is accepted', async () => {
    const database = await newDatabase();
    // API only: nothing is ever sent from here.
    const app = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
    resources.onCleanup(() => app.stop());
    const webhook = { name: 'bad input', url: 'https://example.org/hooks', eventTypes: ['*'] };
    const create = (changes: Record<string, unknown>) => ({ operation: createWebhookMutation, variables: { input: { ...webhook, ...changes } } });
    const publish = (input: Record<string, unknown>) => ({ operation: publishEventMutation, variables: { input } });
    const header = (key: string, value: string) => create({ headers: [{ key, value }] });

    const rows: BadInputRow[] = [
      { name: 'malformed JSON body', rawBody: '{"query": "{ webhooks { nodes { id } } }", ', expected: 'BAD_REQUEST' },
      { name: 'timeoutMs: "abc"', ...create({ timeoutMs: 'abc' }), expected: 'BAD_USER_INPUT' },
      { name: 'eventTypes: 42', ...create({ eventTypes: 42 }), expected: 'BAD_USER_INPUT' },
      { name: 'eventTypes: {"a":1}', ...create({ eventTypes: { a: 1 } }), expected: 'BAD_USER_INPUT' },
      { name: 'event data as a number', ...publish({ type: 'bad.input', data: 42 }), expected: 'BAD_USER_INPUT' },
      { name: 'event data as a string', ...publish({ type: 'bad.input', data: 'x' }), expected: 'BAD_USER_INPUT' },
      { name: 'name of 100,000 characters', ...create({ name: 'n'.repeat(100_000) }), expected: 'BAD_USER_INPUT' },
      { name: 'event type of 10,000 characters', ...publish({ type: 't'.repeat(10_000), data: {} }), expected: 'BAD_USER_INPUT' },
      { name: 'header value of 100,000 characters', ...header('X-Big', 'v'.repeat(100_000)), expected: 'BAD_USER_INPUT' },
      { name: 'name with \\u0000', ...create({ name: 'bad\u0000name' }), expected: 'BAD_USER_INPUT' },
      { name: 'name with \\r\\n', ...create({ name: 'bad\r\nname' }), expected: 'BAD_USER_INPUT' },
      { name: 'header name with \\u202e (right-to-left override)', ...header('X-\u202eEvil', 'v'), expected: 'BAD_USER_INPUT' },
      { name: 'header value with \\r\\n (header injection)', ...header('X-Injected', 'v\r\nX-Other: injected'), expected: 'BAD_USER_INPUT' },
      { name: 'header value with \\u0000', ...header('X-Nul', 'v\u0000'), expected: 'BAD_USER_INPUT' },
      { name: 'emoji in a header name', ...header('X-☕', 'v'), expected: 'BAD_USER_INPUT' },
      { name: 'URL with credentials', ...create({ url: 'http://user:pass@example.org/' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL javascript:alert(1)', ...create({ url: 'javascript:alert(1)' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL file:///etc/passwd', ...create({ url: 'file:///etc/passwd' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL data:text/plain,x', ...create({ url: 'data:text/plain,x' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL gopher://x', ...create({ url: 'gopher://x' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL ftp://x', ...create({ url: 'ftp://x' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL ws://x', ...create({ url: 'ws://x' }), expected: 'BAD_USER_INPUT' },
      { name: 'URL without a scheme', ...create({ url: 'example.org/hooks' }), expected: 'BAD_USER_INPUT' },
      { name: 'callbackUrl javascript:alert(1)', ...publish({ type: 'bad.input', data: {}, callbackUrl: 'javascript:alert(1)' }), expected: 'BAD_USER_INPUT' },
      { name: 'callbackUrl with credentials', ...publish({ type: 'bad.input', data: {}, callbackUrl: 'http://user:pass@example.org/' }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs -1', ...create({ timeoutMs: -1 }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs 0', ...create({ timeoutMs: 0 }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs 99', ...create({ timeoutMs: 99 }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs 60001', ...create({ timeoutMs: 60_001 }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs 2^31 (over GraphQL Int)', ...create({ timeoutMs: 2 ** 31 }), expected: 'BAD_USER_INPUT' },
      { name: 'timeoutMs 1.5', ...create({ timeoutMs: 1.5 }), expected: 'BAD_USER_INPUT' },
      { name: 'retryScheduleSeconds [-5]', ...create({ retryScheduleSeconds: [-5] }), expected: 'BAD_USER_INPUT' },
      { name: 'retryScheduleSeconds [0]', ...create({ retryScheduleSeconds: [0] }), expected: 'BAD_USER_INPUT' },
      { name: 'retryScheduleSeconds [8000000]', ...create({ retryScheduleSeconds: [8_000_000] }), expected: 'BAD_USER_INPUT' },
      { name: 'retryScheduleSeconds with 21 entries', ...create({ retryScheduleSeconds: Array.from({ length: 21 }, () => 1) }), expected: 'BAD_USER_INPUT' },
      { name: 'eventTypes []', ...create({ eventTypes: [] }), expected: 'BAD_USER_INPUT' },
      { name: 'eventTypes ["*.*"]', ...create({ eventTypes: ['*.*'] }), expected: 'BAD_USER_INPUT' },
      { name: 'method "TRACE"', ...create({ method: 'TRACE' }), expected: 'BAD_USER_INPUT' },
      { name: 'updateWebhook with an id that is not a uuid', operation: `mutation ($id: ID!) { updateWebhook(id: $id, input: { name: "x" }) { id } }`, variables: { id: 'not-a-uuid' }, expected: 'NOT_FOUND' },
      { name: 'first: -1', operation: `query ($first: Int) { webhooks(first: $first) { nodes { id } } }`, variables: { first: -1 }, expected: 'BAD_USER_INPUT' },
      // GraphQL coerces a single value given for a list into a list of one (input coercion in the spec): "x" is ["x"], a valid event type.
      { name: 'eventTypes: "x" (coerced to ["x"])', ...create({ eventTypes: 'x' }), expected: 'ACCEPTED' },
      { name: 'printable unicode name "Café ☕ 東京"', ...create({ name: 'Café ☕ 東京' }), expected: 'ACCEPTED' },
    ];

    const results: { name: string; code: string; stored: Partial<RowCounts> }[] = [];
    const printed: string[] = [];
    for (const row of rows) {
      const before = await rowCounts(database);
      const body = row.rawBody ?? JSON.stringify({ query: row.operation, variables: row.variables });
      const answer = await post(app.url, body);
      const error = typeof answer.body === 'object' ? answer.body.errors?.[0] : undefined;
      const code: string = error?.extensions?.code ?? (answer.body?.data ? 'ACCEPTED' : `no code (HTTP ${answer.status})`);
      const after = await rowCounts(database);
      const stored: Partial<RowCounts> = {};
      for (const table of storedTables) if (after[table] !== before[table]) stored[table] = after[table] - before[table];
      results.push({ name: row.name, code, stored });
      printed.push(`${row.name} → HTTP ${answer.status} ${code}${error ? `: ${String(error.message).slice(0, 140)}` : ''}`);
    }
    console.log(`Bad input tried (${rows.length}):\n${printed.join('\n')}`);

    expect(results).toEqual(rows.map((row) => ({ name: row.name, code: row.expected, stored: row.expected === 'ACCEPTED' ? { webhook: 1 } : {} })));
    const unicode = await database.pool.query(`select name from webhook where name = $1`, ['Café ☕ 東京']);
    expect(unicode.rowCount).toBe(1);
  });
});
