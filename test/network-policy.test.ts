/**
 * The network policy (no SSRF): webhook and callback URLs whose host is, or resolves to, a
 * loopback, private, link-local, CGNAT, multicast or otherwise reserved address are refused
 * when saved, and again at send time on the address actually connected to. The allowlist
 * (HOOKLINE_ALLOW_PRIVATE_NETWORKS) opens all of them or some CIDRs.
 *
 * The apps here refuse private networks (`allowPrivateNetworks: []`) unless a test is about
 * the allowlist; receivers listen on 127.0.0.1, which is exactly what must not be reachable.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { AddressPolicy, parseAllowPrivateNetworks } from '../src/delivery/address-policy.js';
import { createHttpSender } from '../src/delivery/http-sender.js';
import type { Hookline } from '../src/server/hookline.js';
import type { TestAppOptions } from './support/app.js';
import type { TestDatabase } from './support/database.js';
import { createWebhook, createWebhookMutation, graphql, graphqlData, publishEvent, publishEventMutation, type GraphQLResult } from './support/graphql.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';

const refuseAllPrivate = { network: { allowPrivateNetworks: [] as string[] } };

const updateMutation = `mutation ($id: ID!, $input: WebhookPatch!) { updateWebhook(id: $id, input: $input) { id url } }`;
const testWebhookMutation = `mutation ($input: TestWebhookInput!) { testWebhook(input: $input) { success error } }`;

// Everything started here is released after the file (apps before their receivers and databases).
const resources = trackTestResources('all');

function newDatabase(): Promise<TestDatabase> {
  return resources.newDatabase();
}

function startApp(options: TestAppOptions): Promise<Hookline> {
  return resources.newApp(options);
}

function newReceiver(): Promise<Receiver> {
  return resources.newReceiver();
}

async function count(database: TestDatabase, table: 'webhook' | 'event' | 'delivery'): Promise<number> {
  return Number((await database.pool.query(`select count(*) as n from ${table}`)).rows[0].n);
}

function expectRefusedAddress(result: GraphQLResult, field: string): void {
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(result.errors![0]!.message).toMatch(/private or reserved networks/);
}

/** The attempts of the delivery of `eventId`, once it is FAILED. */
async function failedAttempts(database: TestDatabase, eventId: string): Promise<{ error: string; success: boolean; response_status: number | null }[]> {
  await waitFor(
    async () => (await database.pool.query(`select 1 from delivery where event_id = $1 and status = 'FAILED'`, [eventId])).rowCount === 1,
    { description: 'the delivery to fail', timeoutMs: 20_000 },
  );
  const attempts = await database.pool.query(
    `select a.error, a.success, a.response_status from attempt a join delivery d on d.id = a.delivery_id where d.event_id = $1 order by a.number`,
    [eventId],
  );
  return attempts.rows;
}

describe('saving a URL that points at a private or reserved address', () => {
  let database: TestDatabase;
  let app: Hookline;
  /** A saved webhook with a public URL, for updateWebhook to try to point elsewhere. */
  let savedWebhook: { id: string; url: string };

  beforeAll(async () => {
    database = await newDatabase();
    app = await startApp({ databaseUrl: database.url, config: refuseAllPrivate });
    // Stopped, and for a type never published: nothing is ever sent to this public address.
    savedWebhook = await createWebhook(app.url, { url: 'https://example.org/hooks', eventTypes: ['never.published'], active: false });
  });

  const refusedUrls: [string, string][] = [
    ['http://127.0.0.1/', 'IPv4 loopback'],
    ['http://127.8.9.10/', 'anywhere in 127.0.0.0/8'],
    ['http://localhost:8080/', 'a name that resolves to loopback'],
    ['http://10.1.2.3/', 'private 10.0.0.0/8'],
    ['http://172.16.0.1/', 'private 172.16.0.0/12'],
    ['http://192.168.1.1/', 'private 192.168.0.0/16'],
    ['http://169.254.169.254/latest/meta-data', 'link-local: the cloud metadata service'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://240.0.0.1/', 'reserved'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://[::1]/', 'IPv6 loopback'],
    ['http://[fc00::1]/', 'IPv6 unique local'],
    ['http://[fe80::1]/', 'IPv6 link-local'],
    ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback'],
    ['http://[::ffff:a00:1]/', 'IPv4-mapped 10.0.0.1'],
    // ipaddr.js puts 64:ff9b::/96 in its "rfc6052" range (not unicast), so it is refused.
    ['http://[64:ff9b::a00:1]/', 'NAT64 of 10.0.0.1'],
    ['http://2130706433/', 'decimal IPv4: the WHATWG URL parser reads 127.0.0.1'],
    ['http://0x7f.1/', 'hexadecimal shorthand IPv4: 127.0.0.1'],
  ];

  test.each(refusedUrls)('%s (%s) is refused by createWebhook, updateWebhook, testWebhook and publishEvent, and nothing is stored', async (url) => {
    const before = { webhook: await count(database, 'webhook'), event: await count(database, 'event'), delivery: await count(database, 'delivery') };

    const created = await graphql(app.url, createWebhookMutation, { input: { name: 'ssrf', url, eventTypes: ['*'] } });
    expectRefusedAddress(created, 'url');

    const updated = await graphql(app.url, updateMutation, { id: savedWebhook.id, input: { url } });
    expectRefusedAddress(updated, 'url');

    const tried = await graphql(app.url, testWebhookMutation, { input: { webhook: { name: 'ssrf', url, eventTypes: ['*'] }, eventType: 'message.status' } });
    expectRefusedAddress(tried, 'webhook.url');

    const published = await graphql(app.url, publishEventMutation, { input: { type: 'message.status', data: { status: 'sent' }, callbackUrl: url } });
    expectRefusedAddress(published, 'input.callbackUrl');

    expect({ webhook: await count(database, 'webhook'), event: await count(database, 'event'), delivery: await count(database, 'delivery') }).toEqual(before);
    const stored = await database.pool.query(`select url from webhook where id = $1`, [savedWebhook.id]);
    expect(stored.rows[0].url).toBe(savedWebhook.url);
  });

  test('a public address is accepted, and so is a host that does not resolve (yet): the send-time check still applies', async () => {
    // 93.184.215.14 is a public address; example.org does not resolve on this machine.
    const byAddress = await createWebhook(app.url, { url: 'http://93.184.215.14/hooks', eventTypes: ['never.published'], active: false });
    expect(byAddress.url).toBe('http://93.184.215.14/hooks');
    const byName = await createWebhook(app.url, { url: 'https://example.org/hooks', eventTypes: ['never.published'], active: false });
    expect(byName.url).toBe('https://example.org/hooks');

    const updated = await graphqlData(app.url, updateMutation, { id: savedWebhook.id, input: { url: 'http://93.184.215.14/other' } });
    expect(updated.updateWebhook.url).toBe('http://93.184.215.14/other');

    // testWebhook sends for real: to a host that does not resolve, so it reports a failure, not a refusal.
    const tried = await graphqlData(app.url, testWebhookMutation, {
      input: { webhook: { name: 'public', url: 'https://example.org/hooks', eventTypes: ['*'] }, eventType: 'message.status' },
    });
    expect(tried.testWebhook.success).toBe(false);
    expect(tried.testWebhook.error).not.toMatch(/private or reserved/);

    const event = await publishEvent(app.url, { type: 'message.status', data: { status: 'sent' }, callbackUrl: 'https://example.org/callback' });
    const stored = await database.pool.query(`select callback_url from event where id = $1`, [event.id]);
    expect(stored.rows[0].callback_url).toBe('https://example.org/callback');
  });
});

describe('sending to a private or reserved address', () => {
  // DNS rebinding (a name that resolved to a public address when the webhook was saved and to a
  // private one when it is sent) cannot be staged here without a DNS server of our own. The
  // check that covers it is the send-time one, on the address actually connected to: these
  // tests reach it the two ways that need no DNS, a host only known per event and a policy
  // that changed after the webhook was saved.

  test('a webhook whose host comes from the event is refused at send time, and the receiver gets nothing', async () => {
    const database = await newDatabase();
    const app = await startApp({ databaseUrl: database.url, config: refuseAllPrivate });
    const receiver = await newReceiver();

    // Saved: the host is only known per event.
    await createWebhook(app.url, { url: `http://{{data.host}}:${receiver.port}/x`, eventTypes: ['ssrf.token'], retryScheduleSeconds: [] });
    const event = await publishEvent(app.url, { type: 'ssrf.token', data: { host: '127.0.0.1' } });

    const attempts = await failedAttempts(database, event.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ success: false, response_status: null });
    expect(attempts[0]!.error).toMatch(/127\.0\.0\.1 is a private or reserved address: not sent/);
    expect(receiver.requests).toHaveLength(0);
  });

  test('a webhook saved while the policy allowed it is refused by a dispatcher whose policy does not', async () => {
    const database = await newDatabase();
    // app1 may save private addresses but sends nothing; app2, on the same database, sends and refuses them.
    const app1 = await startApp({ databaseUrl: database.url, withoutDispatcher: true });
    await startApp({ databaseUrl: database.url, config: refuseAllPrivate });
    const receiver = await newReceiver();

    const webhook = await createWebhook(app1.url, { url: `${receiver.url}/hook`, eventTypes: ['ssrf.saved'], retryScheduleSeconds: [] });
    expect(webhook.url).toBe(`${receiver.url}/hook`);
    const event = await publishEvent(app1.url, { type: 'ssrf.saved', data: { n: 1 } });

    const attempts = await failedAttempts(database, event.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toMatch(/destination 127\.0\.0\.1 is a private or reserved address: not sent/);
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('the allowlist', () => {
  test.each([[['127.0.0.1']], [['127.0.0.0/8']]])('allowPrivateNetworks %j: 127.0.0.1 is saved and delivered, 10.0.0.1 is still refused', async (allowPrivateNetworks) => {
    const database = await newDatabase();
    const app = await startApp({ databaseUrl: database.url, config: { network: { allowPrivateNetworks } } });
    const receiver = await newReceiver();

    // Saved and delivered.
    const webhook = await createWebhook(app.url, { url: `${receiver.url}/allowed`, eventTypes: ['allow.fixed'], retryScheduleSeconds: [] });
    expect(webhook.url).toBe(`${receiver.url}/allowed`);
    const event = await publishEvent(app.url, { type: 'allow.fixed', data: { n: 1 } });
    await waitFor(
      async () => (await database.pool.query(`select 1 from delivery where event_id = $1 and status = 'SUCCEEDED'`, [event.id])).rowCount === 1,
      { description: 'the delivery to 127.0.0.1 to succeed' },
    );
    expect(receiver.requests.map((request) => request.url)).toEqual(['/allowed']);

    // Refused when saved.
    const refused = await graphql(app.url, createWebhookMutation, { input: { name: 'private', url: 'http://10.0.0.1/', eventTypes: ['*'] } });
    expectRefusedAddress(refused, 'url');
    expect(await count(database, 'webhook')).toBe(1);

    // And at send time, when the host comes from the event: 127.0.0.1 goes through, 10.0.0.1 does not.
    await createWebhook(app.url, { url: `http://{{data.host}}:${receiver.port}/token`, eventTypes: ['allow.token'], retryScheduleSeconds: [] });
    const toLoopback = await publishEvent(app.url, { type: 'allow.token', data: { host: '127.0.0.1' } });
    const toPrivate = await publishEvent(app.url, { type: 'allow.token', data: { host: '10.0.0.1' } });
    await waitFor(
      async () => (await database.pool.query(`select 1 from delivery where event_id = $1 and status = 'SUCCEEDED'`, [toLoopback.id])).rowCount === 1,
      { description: 'the token delivery to 127.0.0.1 to succeed' },
    );
    const attempts = await failedAttempts(database, toPrivate.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toMatch(/destination 10\.0\.0\.1 is a private or reserved address: not sent/);
    expect(receiver.requests.map((request) => request.url)).toEqual(['/allowed', '/token']);
  });

  test('parseAllowPrivateNetworks reads HOOKLINE_ALLOW_PRIVATE_NETWORKS', () => {
    expect(parseAllowPrivateNetworks('1')).toBe(true);
    expect(parseAllowPrivateNetworks('true')).toBe(true);
    expect(parseAllowPrivateNetworks('TRUE')).toBe(true);
    expect(parseAllowPrivateNetworks('')).toEqual([]);
    expect(parseAllowPrivateNetworks(undefined)).toEqual([]);
    expect(parseAllowPrivateNetworks('0')).toEqual([]);
    expect(parseAllowPrivateNetworks('false')).toEqual([]);
    expect(parseAllowPrivateNetworks('10.0.0.0/8, 127.0.0.1')).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(() => parseAllowPrivateNetworks('nonsense')).toThrow(
      'HOOKLINE_ALLOW_PRIVATE_NETWORKS has "nonsense", which is neither an address nor a CIDR such as 10.0.0.0/8',
    );
    expect(() => parseAllowPrivateNetworks('10.0.0.0/8, 10.0.0.0/99')).toThrow(/"10\.0\.0\.0\/99", which is neither an address nor a CIDR/);
  });

  test('the sender checks the address it connects to: host names through their DNS answer, literal addresses directly', async () => {
    const receiver = await startReceiver();
    const refusing = createHttpSender({ maximumResponseBodyBytes: 1024, maximumSocketsPerHost: 4, addressPolicy: new AddressPolicy({ allowPrivateNetworks: [] }) });
    const allowing = createHttpSender({ maximumResponseBodyBytes: 1024, maximumSocketsPerHost: 4, addressPolicy: new AddressPolicy({ allowPrivateNetworks: ['127.0.0.1'] }) });
    try {
      for (const host of ['localhost', '127.0.0.1', '[::1]', '[::ffff:127.0.0.1]']) {
        const outcome = await refusing.send({ method: 'POST', url: `http://${host}:${receiver.port}/x`, headers: {}, body: '{}' }, 2000);
        expect(outcome).toMatchObject({ kind: 'error', code: 'ADDRESS_NOT_ALLOWED' });
        expect(outcome.kind === 'error' && outcome.error).toMatch(/is a private or reserved address: not sent/);
      }
      expect(receiver.requests).toHaveLength(0);
      // The allowlist speaks of 127.0.0.1, so its IPv4-mapped form is allowed as well.
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
        const outcome = await allowing.send({ method: 'POST', url: `http://${host}:${receiver.port}/x`, headers: {}, body: '{}' }, 2000);
        expect(outcome).toMatchObject({ kind: 'response', status: 200 });
      }
      expect(receiver.requests).toHaveLength(2);
    } finally {
      refusing.close();
      allowing.close();
      await receiver.close();
    }
  });
});
