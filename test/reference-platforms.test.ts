/**
 * One end-to-end test per reference platform (shared/reference 000-004): the real app sends to
 * real receivers on 127.0.0.1 that read the request the way that platform's customers do
 * (PHP-style form parsing, query strings, JSON), and the stored rows are checked as a user would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import qs from 'qs';
import { Webhook } from 'standardwebhooks';
import { eventCatalog } from '../src/domain/event-catalog.js';
import type { Hookline } from '../src/server/hookline.js';
import { startTestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createWebhook, graphql, graphqlData, publishEvent } from './support/graphql.js';
import { startReceiver, type Answer, type ReceivedRequest, type Receiver } from './support/receiver.js';
import { waitFor } from './support/wait.js';

let database: TestDatabase;
let app: Hookline;
const receivers: Receiver[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestApp({ databaseUrl: database.url });
});

afterEach(async () => {
  // Each test's webhooks go, so a catch-all of one test does not receive the next test's events.
  const { rows } = await database.pool.query<{ id: string }>('select id from webhook');
  for (const { id } of rows) await gql('mutation ($id: ID!) { deleteWebhook(id: $id) }', { id });
});

afterAll(async () => {
  await app?.stop();
  for (const receiver of receivers) await receiver.close();
  await database?.drop();
});

function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return graphqlData<T>(app.url, query, variables);
}

async function newReceiver(fallback?: Answer): Promise<Receiver> {
  const receiver = await startReceiver(fallback);
  receivers.push(receiver);
  return receiver;
}

function sample(name: string): Record<string, unknown> {
  return structuredClone(eventCatalog.find((entry) => entry.name === name)!.samplePayload);
}

function pathOf(request: ReceivedRequest): string {
  return new URL(request.url, 'http://receiver').pathname;
}

function queryOf(request: ReceivedRequest): string {
  return new URL(request.url, 'http://receiver').search.slice(1);
}

function to(receiver: Receiver, path: string): ReceivedRequest[] {
  return receiver.requests.filter((request) => pathOf(request) === path);
}

interface DeliveryRow {
  id: string;
  webhook_id: string | null;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
}

interface AttemptRow {
  number: number;
  request_method: string;
  request_url: string;
  request_headers: Record<string, string>;
  request_body: string | null;
  response_status: number | null;
  error: string | null;
  success: boolean;
}

async function deliveriesOf(eventId: string): Promise<DeliveryRow[]> {
  return (await database.pool.query<DeliveryRow>('select * from delivery where event_id = $1 order by id', [eventId])).rows;
}

async function attemptsOf(deliveryId: string): Promise<AttemptRow[]> {
  return (await database.pool.query<AttemptRow>('select * from attempt where delivery_id = $1 order by number', [deliveryId])).rows;
}

/** Waits until every delivery of these events has succeeded (and fails fast on a FAILED one). */
async function allSucceeded(eventIds: string[]): Promise<DeliveryRow[]> {
  return waitFor(
    async () => {
      const { rows } = await database.pool.query<DeliveryRow>('select * from delivery where event_id = any($1::uuid[]) order by id', [eventIds]);
      const failed = rows.find((row) => row.status === 'FAILED');
      if (failed) throw new Error(`delivery ${failed.id} FAILED: ${JSON.stringify(await attemptsOf(failed.id))}`);
      return rows.every((row) => row.status === 'SUCCEEDED') && rows;
    },
    { timeoutMs: 20_000, description: 'the deliveries to succeed' },
  );
}

async function tableCounts(): Promise<Record<string, number>> {
  const { rows } = await database.pool.query<Record<string, number>>(
    `select (select count(*)::int from webhook) as webhook, (select count(*)::int from event) as event,
            (select count(*)::int from delivery) as delivery, (select count(*)::int from attempt) as attempt`,
  );
  return rows[0]!;
}

function verifySignature(secret: string, request: ReceivedRequest): any {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

/** For bodies that are not JSON (Webhook.verify parses JSON): sign the raw body again and look for that signature. */
function hasValidSignature(secret: string, request: ReceivedRequest): boolean {
  const id = request.headers['webhook-id'] as string;
  const timestamp = new Date(Number(request.headers['webhook-timestamp']) * 1000);
  const expected = new Webhook(secret).sign(id, timestamp, request.body);
  return (request.headers['webhook-signature'] as string).split(' ').includes(expected);
}

describe('Telerivet (001): form-urlencoded POST with PHP-style keys and a shared secret', () => {
  test('the receiver reads contact[name], media[0][url], event and secret with qs.parse; the stored attempt hides the secret', async () => {
    const sharedSecret = 'tlrv_shared_9b1f6c2e7d8a4053';
    const receiver = await newReceiver();
    // As Telerivet's PHP example does: a wrong secret gets 403 (and the delivery would not succeed).
    receiver.setScript((request) => ((qs.parse(request.body) as Record<string, unknown>)['secret'] === sharedSecret ? { status: 200, body: '' } : { status: 403, body: 'Invalid webhook secret' }));
    const webhook = await createWebhook(app.url, {
      name: 'Telerivet incoming messages',
      url: `${receiver.url}/incoming_message.php`,
      eventTypes: ['message.received'],
      bodyFormat: 'FORM',
      bodyFields: [
        { key: '*', value: 'data', type: 'VARIABLE' },
        { key: 'event', value: 'incoming_message' },
        { key: 'secret', value: sharedSecret, secret: true },
      ],
      retryScheduleSeconds: [],
    });
    const data = sample('message.received');
    (data['contact'] as Record<string, unknown>)['name'] = "Zoë O'Brien & Co";

    const event = await publishEvent(app.url, { type: 'message.received', channel: 'mms', data });
    const [delivery] = await allSucceeded([event.id]);

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(pathOf(request)).toBe('/incoming_message.php');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = qs.parse(request.body) as any;
    expect(form.event).toBe('incoming_message');
    expect(form.secret).toBe(sharedSecret);
    expect(form.contact.name).toBe("Zoë O'Brien & Co");
    expect(form.contact.vars.customer_id).toBe('C-20871');
    expect(form.media[0].url).toBe('https://media.example.net/inbound/2024/11/18/f3c9a1d2.jpg');
    expect(form.media[0].size).toBe('48213');
    expect(form.from_number).toBe('+447700900358');
    expect(form.content).toBe(data['content']);
    // The raw keys are the PHP-style names Telerivet documents.
    const pairs = new URLSearchParams(request.body);
    expect(pairs.get('contact[name]')).toBe("Zoë O'Brien & Co");
    expect(pairs.get('media[0][url]')).toBe('https://media.example.net/inbound/2024/11/18/f3c9a1d2.jpg');
    expect(hasValidSignature(webhook.secret, request)).toBe(true);
    expect(hasValidSignature('whsec_' + Buffer.from('another secret 123').toString('base64'), request)).toBe(false);

    const [attempt] = await attemptsOf(delivery!.id);
    expect(attempt).toMatchObject({ number: 1, request_method: 'POST', response_status: 200, success: true });
    expect(attempt!.request_body).not.toContain(sharedSecret);
    expect((qs.parse(attempt!.request_body!) as any).secret).toMatch(/^.{0,4}\*{8}$/);
    expect((qs.parse(attempt!.request_body!) as any).contact.name).toBe("Zoë O'Brien & Co");

    const preview = await gql(`query ($input: TestWebhookInput!) { previewWebhookRequest(input: $input) { body } }`, {
      input: { webhookId: webhook.id, eventType: 'message.received', data },
    });
    expect(preview.previewWebhookRequest.body).not.toContain(sharedSecret);
    const shown = await gql(`query ($id: ID!) { webhook(id: $id) { bodyFields { key value secret } } }`, { id: webhook.id });
    expect(shown.webhook.bodyFields[2]).toMatchObject({ key: 'secret', secret: true });
    expect(shown.webhook.bodyFields[2].value).not.toContain(sharedSecret);
  });
});

describe('Octapush (000): one webhook per status, GET with recipient tokens or POST JSON', () => {
  test('GET for blacklisted carries the recipient tokens in the query; other statuses and channels are not sent; POST JSON for submitted', async () => {
    const receiver = await newReceiver();
    const tokens = [
      { key: 'phone', value: '{{data.recipient.phone}}' },
      { key: 'first_name', value: '{{data.recipient.firstName}}' },
      { key: 'last_name', value: '{{data.recipient.lastName}}' },
      { key: 'title', value: '{{data.recipient.title}}' },
      { key: 'option1', value: '{{data.recipient.option1}}' },
      { key: 'option2', value: '{{data.recipient.option2}}' },
      { key: 'custom_id', value: '{{data.recipient.custom.customerId}}' },
      { key: 'status', value: '{{data.status}}' },
    ];
    const common = { eventTypes: ['message.status'], channels: ['sms'], retryScheduleSeconds: [] };
    await createWebhook(app.url, { ...common, name: 'blacklisted (GET)', url: `${receiver.url}/octapush/blacklisted`, method: 'GET', statuses: ['blacklisted'], queryParams: tokens, bodyFields: [] });
    // The same with bodyFields null: the whole envelope travels in the query string too.
    await createWebhook(app.url, { ...common, name: 'blacklisted (GET, envelope)', url: `${receiver.url}/octapush/envelope`, method: 'GET', statuses: ['blacklisted'], bodyFields: null });
    await createWebhook(app.url, {
      ...common,
      name: 'submitted (POST JSON)',
      url: `${receiver.url}/octapush/submitted`,
      statuses: ['submitted'],
      bodyFields: [
        { key: 'phone', value: 'data.recipient.phone', type: 'VARIABLE' },
        { key: 'name', value: '{{data.recipient.title}} {{data.recipient.firstName}} {{data.recipient.lastName}}' },
        { key: 'customId', value: 'data.recipient.custom.customerId', type: 'VARIABLE' },
        { key: 'status', value: 'data.status', type: 'VARIABLE' },
        { key: 'parts', value: 'data.partCount', type: 'VARIABLE' },
      ],
    });
    const recipient = {
      phone: '+306912345678',
      firstName: 'José María',
      lastName: "O'Connor+Núñez",
      title: 'Dr. & Mrs',
      option1: 'tier=gold/vip',
      option2: '50% off #1',
      custom: { customerId: 'CUST 448/102' },
    };
    const status = (value: string, channel = 'sms') => publishEvent(app.url, { type: 'message.status', channel, data: { messageId: `m-${value}-${channel}`, status: value, partCount: 2, recipient } });

    const blacklisted = await status('blacklisted');
    const delivered = await status('delivered');
    const blacklistedOnViber = await status('blacklisted', 'viber');
    const submitted = await status('submitted');
    expect(await deliveriesOf(delivered.id)).toHaveLength(0);
    expect(await deliveriesOf(blacklistedOnViber.id)).toHaveLength(0);
    expect(await deliveriesOf(blacklisted.id)).toHaveLength(2);
    expect(await deliveriesOf(submitted.id)).toHaveLength(1);
    await allSucceeded([blacklisted.id, submitted.id]);
    expect(receiver.requests).toHaveLength(3);

    const [get] = to(receiver, '/octapush/blacklisted');
    expect(get!.method).toBe('GET');
    expect(get!.body).toBe('');
    expect(get!.headers['content-type']).toBeUndefined();
    const params = new URLSearchParams(queryOf(get!));
    expect([...params.keys()]).toEqual(tokens.map((token) => token.key));
    expect(Object.fromEntries(params)).toEqual({
      phone: '+306912345678',
      first_name: 'José María',
      last_name: "O'Connor+Núñez",
      title: 'Dr. & Mrs',
      option1: 'tier=gold/vip',
      option2: '50% off #1',
      custom_id: 'CUST 448/102',
      status: 'blacklisted',
    });

    const [envelope] = to(receiver, '/octapush/envelope');
    expect(envelope!.method).toBe('GET');
    expect(envelope!.body).toBe('');
    expect(qs.parse(queryOf(envelope!))).toEqual({
      id: blacklisted.id,
      type: 'message.status',
      channel: 'sms',
      createdAt: new Date(blacklisted.createdAt).toISOString(),
      data: { messageId: 'm-blacklisted-sms', status: 'blacklisted', partCount: '2', recipient },
    });

    const [post] = to(receiver, '/octapush/submitted');
    expect(post!.method).toBe('POST');
    expect(post!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post!.body)).toEqual({ phone: '+306912345678', name: "Dr. & Mrs José María O'Connor+Núñez", customId: 'CUST 448/102', status: 'submitted', parts: 2 });
  });
});

describe('chat platform (003): custom request builder', () => {
  test('PUT with Bearer auth, templated headers and nested body fields; a chat.ended webhook gets only the END event', async () => {
    const receiver = await newReceiver();
    const token = 'chat_bearer_5e0d7a91c24f';
    await createWebhook(app.url, {
      name: 'chat messages',
      url: `${receiver.url}/chat/messages`,
      method: 'PUT',
      eventTypes: ['message.received'],
      channels: ['chat'],
      auth: { type: 'BEARER', token },
      headers: [
        { key: 'X-Channel', value: '{{channel}}' },
        { key: 'X-Account', value: 'acme' },
      ],
      bodyFields: [
        { key: 'event', value: 'MESSAGE' },
        { key: 'message.text', value: 'data.text', type: 'VARIABLE' },
        { key: 'message.attachments[]', value: 'data.media[0].url', type: 'VARIABLE' },
        { key: 'message.attachments[]', value: 'data.media[1].url', type: 'VARIABLE' },
        { key: 'meta.chatId', value: 'data.chatId', type: 'VARIABLE' },
        { key: 'meta.count', value: 'data.mediaCount', type: 'VARIABLE' },
        { key: 'meta.contact', value: '{{data.contact}}' },
      ],
      retryScheduleSeconds: [],
    });
    await createWebhook(app.url, {
      name: 'chat ends',
      url: `${receiver.url}/chat/ended`,
      eventTypes: ['chat.ended'],
      bodyFields: [
        { key: 'event', value: 'END' },
        { key: 'chatId', value: 'data.chatId', type: 'VARIABLE' },
        { key: 'contact', value: 'data.contact.phone_number', type: 'VARIABLE' },
      ],
      retryScheduleSeconds: [],
    });
    const chatId = 'chat-5f1d0c7a-93b2-4e68-a0d4-2b7e91c35f80';
    const message = await publishEvent(app.url, {
      type: 'message.received',
      channel: 'chat',
      data: {
        chatId,
        contact: '+447700900358',
        text: 'Can I move my appointment to Friday?',
        media: [
          { url: 'https://media.example.net/chat/card.jpg', caption: 'card' },
          { url: 'https://media.example.net/chat/letter.pdf', caption: 'letter' },
        ],
        mediaCount: 2,
      },
    });
    const ended = await publishEvent(app.url, { type: 'chat.ended', channel: 'chat', data: sample('chat.ended') });
    await allSucceeded([message.id, ended.id]);

    expect(receiver.requests).toHaveLength(2);
    const [put] = to(receiver, '/chat/messages');
    expect(put!.method).toBe('PUT');
    expect(put!.headers['authorization']).toBe(`Bearer ${token}`);
    expect(put!.headers['x-channel']).toBe('chat');
    expect(put!.headers['x-account']).toBe('acme');
    expect(put!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(put!.body);
    expect(body).toEqual({
      event: 'MESSAGE',
      message: { text: 'Can I move my appointment to Friday?', attachments: ['https://media.example.net/chat/card.jpg', 'https://media.example.net/chat/letter.pdf'] },
      meta: { chatId, count: 2, contact: '+447700900358' },
    });
    expect(typeof body.meta.count).toBe('number');

    const [end] = to(receiver, '/chat/ended');
    expect(end!.method).toBe('POST');
    expect(JSON.parse(end!.body)).toEqual({ event: 'END', chatId, contact: '+447700900358' });
  });
});

describe('e-mail / WhatsApp platform (002): test before saving, one URL per event or one for all', () => {
  const testWebhookMutation = `mutation ($input: TestWebhookInput!) {
    testWebhook(input: $input) { success responseStatus responseBody error signingSecret durationMs request { method url headers body } }
  }`;

  async function quiet(): Promise<void> {
    await waitFor(async () => (await database.pool.query(`select 1 from delivery where status in ('PENDING', 'SENDING', 'RETRYING')`)).rowCount === 0, {
      description: 'no delivery in flight',
    });
  }

  test('testWebhook with unsaved settings sends the catalog sample, signed with the returned secret, and stores nothing', async () => {
    const receiver = await newReceiver({ status: 200, body: 'received' });
    const catalog = await gql(`{ eventTypes { name channels samplePayload } }`);
    const messageStatus = catalog.eventTypes.find((entry: any) => entry.name === 'message.status');
    await quiet();
    const before = await tableCounts();

    const result = await gql(testWebhookMutation, {
      input: { webhook: { name: 'not saved yet', url: `${receiver.url}/unsaved`, eventTypes: ['message.status'] }, eventType: 'message.status' },
    });

    expect(result.testWebhook).toMatchObject({ success: true, responseStatus: 200, responseBody: 'received', error: null });
    expect(result.testWebhook.signingSecret).toMatch(/^whsec_/);
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(pathOf(request)).toBe('/unsaved');
    const payload = verifySignature(result.testWebhook.signingSecret, request);
    expect(payload.type).toBe('message.status');
    expect(payload.channel).toBe(messageStatus.channels[0]);
    expect(payload.data).toEqual(messageStatus.samplePayload);
    expect(JSON.parse(request.body)).toEqual(payload);
    expect(result.testWebhook.request.body).toBe(request.body);
    expect(await tableCounts()).toEqual(before);
  });

  test('testWebhook against a receiver answering 500 reports the failure and stores nothing', async () => {
    const receiver = await newReceiver({ status: 500, body: 'boom' });
    await quiet();
    const before = await tableCounts();
    const result = await gql(testWebhookMutation, {
      input: { webhook: { name: 'failing', url: `${receiver.url}/broken`, eventTypes: ['*'] }, eventType: 'mailing_group.subscribed' },
    });
    expect(result.testWebhook).toMatchObject({ success: false, responseStatus: 500, responseBody: 'boom', error: 'HTTP 500' });
    expect(receiver.requests).toHaveLength(1);
    expect(await tableCounts()).toEqual(before);
  });

  test('testWebhook with a saved webhook signs with that webhook\'s secret and does not show it', async () => {
    const receiver = await newReceiver();
    const webhook = await createWebhook(app.url, { name: 'saved', url: `${receiver.url}/saved`, eventTypes: ['message.status'] });
    await quiet();
    const before = await tableCounts();
    const data = { messageId: 'SM-trial', status: 'opened', to: 'ines.bakker@example.org' };
    const result = await gql(testWebhookMutation, { input: { webhookId: webhook.id, eventType: 'message.status', channel: 'email', data } });
    expect(result.testWebhook).toMatchObject({ success: true, responseStatus: 200, signingSecret: null });
    expect(receiver.requests).toHaveLength(1);
    expect(verifySignature(webhook.secret, receiver.requests[0]!)).toMatchObject({ type: 'message.status', channel: 'email', data });
    expect(await tableCounts()).toEqual(before);
  });

  test('a webhook for one event gets only that event; a catch-all gets every event', async () => {
    const receiver = await newReceiver();
    const perEvent = await createWebhook(app.url, { name: 'subscribes', url: `${receiver.url}/subscribed`, eventTypes: ['mailing_group.subscribed'] });
    const catchAll = await createWebhook(app.url, { name: 'everything', url: `${receiver.url}/all`, eventTypes: ['*'] });
    const subscribed = await publishEvent(app.url, { type: 'mailing_group.subscribed', channel: 'email', data: sample('mailing_group.subscribed') });
    const contact = await publishEvent(app.url, { type: 'contact.created', channel: 'email', data: sample('contact.created') });
    const deliveries = await allSucceeded([subscribed.id, contact.id]);

    expect(deliveries.filter((row) => row.webhook_id === perEvent.id)).toHaveLength(1);
    expect(deliveries.filter((row) => row.webhook_id === catchAll.id)).toHaveLength(2);
    expect(to(receiver, '/subscribed').map((request) => JSON.parse(request.body).type)).toEqual(['mailing_group.subscribed']);
    expect(to(receiver, '/all').map((request) => JSON.parse(request.body).type).sort()).toEqual(['contact.created', 'mailing_group.subscribed']);
    expect(JSON.parse(to(receiver, '/subscribed')[0]!.body).data).toEqual(sample('mailing_group.subscribed'));
  });
});

describe('transactional SMS API (004): a callback URL given with the event', () => {
  const undelivered = () => ({
    id: `sms-${Math.random().toString(16).slice(2, 10)}-5ade`,
    uniqueArgs: { param1: 'a', param2: 'b' },
    event: 'undelivered',
    reason: { message: 'Hard Bounce', code: 1400 },
  });

  test('the callback gets the data plus the secret; no webhook gets the event; the delivery has no webhook', async () => {
    const hooks = await newReceiver();
    const callback = await newReceiver();
    await createWebhook(app.url, { name: 'catch-all', url: `${hooks.url}/all`, eventTypes: ['*'] });
    const data = undelivered();
    const event = await publishEvent(app.url, {
      type: 'message.status',
      channel: 'sms',
      data,
      callbackUrl: `${callback.url}/cb`,
      callbackBodyFields: [{ key: '*', value: 'data', type: 'VARIABLE' }],
      callbackSecret: 'cbsecret',
    });
    const [delivery] = await allSucceeded([event.id]);

    expect(await deliveriesOf(event.id)).toHaveLength(1);
    expect(delivery!.webhook_id).toBeNull();
    expect(callback.requests).toHaveLength(1);
    const request = callback.requests[0]!;
    expect(request.method).toBe('POST');
    expect(pathOf(request)).toBe('/cb');
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body);
    expect(body).toEqual({ ...data, secret: 'cbsecret' });
    expect(body.reason.code).toBe(1400);
    const attempts = await attemptsOf(delivery!.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ number: 1, success: true, response_status: 200 });
    expect(attempts[0]!.request_body).not.toContain('cbsecret');

    // An ordinary event published afterwards reaches the catch-all; the callback event never did.
    const ordinary = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: { status: 'sent' } });
    await allSucceeded([ordinary.id]);
    expect(hooks.requests.map((received) => JSON.parse(received.body).id)).toEqual([ordinary.id]);
  });

  test('a callback answering 500 is RETRYING on the default schedule; retryDelivery makes it due now and it succeeds', async () => {
    const callback = await newReceiver();
    callback.queue({ status: 500, body: 'try later' });
    const event = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: undelivered(), callbackUrl: `${callback.url}/cb` });

    const retrying = await waitFor(async () => {
      const [row] = await deliveriesOf(event.id);
      return row?.status === 'RETRYING' && row;
    }, { description: 'the callback delivery to be RETRYING' });
    expect(retrying.attempt_count).toBe(1);
    expect(retrying.webhook_id).toBeNull();
    // The default schedule's first slot is 10 s, ±20% jitter, counted from the end of the attempt
    // (last_attempt_at is its start: the upper bound leaves room for a slow attempt on a busy machine).
    const waitMs = retrying.next_attempt_at!.getTime() - retrying.last_attempt_at!.getTime();
    expect(waitMs).toBeGreaterThanOrEqual(7_990);
    expect(waitMs).toBeLessThanOrEqual(17_000);
    const [failed] = await attemptsOf(retrying.id);
    expect(failed).toMatchObject({ number: 1, success: false, response_status: 500 });

    const retried = await gql(`mutation ($id: ID!) { retryDelivery(id: $id) { id status } }`, { id: retrying.id });
    expect(retried.retryDelivery.id).toBe(retrying.id);
    await allSucceeded([event.id]);
    const attempts = await attemptsOf(retrying.id);
    expect(attempts.map((attempt) => [attempt.number, attempt.success, attempt.response_status])).toEqual([
      [1, false, 500],
      [2, true, 200],
    ]);
    expect(callback.requests).toHaveLength(2);
    expect(callback.requests[1]!.body).toBe(callback.requests[0]!.body);
    expect(callback.requests[1]!.headers['webhook-id']).toBe(callback.requests[0]!.headers['webhook-id']);
  });

  test('a callback without body fields gets the envelope, with data.uniqueArgs untouched, plus the secret', async () => {
    const callback = await newReceiver();
    const data = { id: 'sms-66944540-5ade', uniqueArgs: { param1: 'test 1', param2: 'test 2' }, event: 'sent', partCount: 1 };
    const event = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data, callbackUrl: `${callback.url}/status`, callbackSecret: 'cbsecret' });
    await allSucceeded([event.id]);
    expect(callback.requests).toHaveLength(1);
    const body = JSON.parse(callback.requests[0]!.body);
    expect(body).toEqual({ id: event.id, type: 'message.status', channel: 'sms', createdAt: new Date(event.createdAt).toISOString(), data, secret: 'cbsecret' });
  });

  test('a callback body field marked secret is sent in full and stored masked', async () => {
    const callback = await newReceiver();
    const token = 'cb_token_7d1e90a2f3';
    const event = await publishEvent(app.url, {
      type: 'message.status',
      channel: 'sms',
      data: undelivered(),
      callbackUrl: `${callback.url}/cb`,
      callbackBodyFormat: 'FORM',
      callbackBodyFields: [
        { key: 'id', value: 'data.id', type: 'VARIABLE' },
        { key: 'token', value: token, secret: true },
      ],
    });
    const [delivery] = await allSucceeded([event.id]);
    expect(callback.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(qs.parse(callback.requests[0]!.body)).toMatchObject({ token });
    const [attempt] = await attemptsOf(delivery!.id);
    expect(attempt!.request_body).not.toContain(token);
    expect((qs.parse(attempt!.request_body!) as any).token).toMatch(/^.{0,4}\*{8}$/);
  });

  test('callback settings without a callbackUrl are refused', async () => {
    const result = await graphql(app.url, `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { id } }`, {
      input: { type: 'message.status', channel: 'sms', data: { status: 'sent' }, callbackSecret: 'cbsecret' },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('previewWebhookRequest', () => {
  test('shows exactly the method, URL, headers and body a saved webhook sends (auth masked)', async () => {
    const receiver = await newReceiver();
    const token = 'preview_bearer_0c7e2a9d41';
    const shared = {
      eventTypes: ['message.status'],
      queryParams: [
        { key: 'status', value: '{{data.status}}' },
        { key: 'phone', value: '{{data.recipient.phone}}' },
      ],
      headers: [
        { key: 'X-Account', value: 'acme' },
        { key: 'X-Status', value: '{{data.status}}' },
      ],
      bodyFields: [
        { key: '*', value: 'data.recipient', type: 'VARIABLE' },
        { key: 'status', value: 'data.status', type: 'VARIABLE' },
        { key: 'event', value: '{{type}} on {{channel}}' },
        { key: 'links[]', value: 'data.links[0]', type: 'VARIABLE' },
      ],
      retryScheduleSeconds: [],
    };
    const json = await createWebhook(app.url, { ...shared, name: 'json', url: `${receiver.url}/json/{{data.recipient.custom.customerId}}`, auth: { type: 'BEARER', token } });
    const form = await createWebhook(app.url, { ...shared, name: 'form', url: `${receiver.url}/form/{{data.recipient.custom.customerId}}`, method: 'PATCH', bodyFormat: 'FORM' });
    // Keys listed shortest first, the order PostgreSQL's jsonb stores them in: the dispatcher reads a
    // published event's data back from jsonb, so with another key order the delivered bytes differ
    // from the preview's (same fields and values, keys reordered: see the next test).
    const data = {
      links: ['https://shop.example/offer?a=1&b=2'],
      status: 'clicked',
      recipient: { phone: '+306912345678', custom: { customerId: 'CUST 448/102' }, firstName: 'José María' },
    };

    const previews = { json: await preview(json.id, data), form: await preview(form.id, data) };
    const event = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data });
    await allSucceeded([event.id]);
    expect(receiver.requests).toHaveLength(2);

    for (const [name, shown] of Object.entries(previews)) {
      const sent = receiver.requests.find((request) => pathOf(request).startsWith(`/${name}/`))!;
      expect(sent).toBeDefined();
      expect(shown.method).toBe(sent.method);
      expect(shown.url).toBe(`${receiver.url}${sent.url}`);
      expect(shown.body).toBe(sent.body);
      for (const [header, value] of Object.entries(shown.headers as Record<string, string>)) {
        if (header.startsWith('webhook-')) continue;
        if (header === 'authorization') {
          expect(value).toMatch(/^Bearer .{0,4}\*{8}$/);
          expect(sent.headers['authorization']).toBe(`Bearer ${token}`);
          continue;
        }
        expect([header, sent.headers[header]]).toEqual([header, value]);
      }
    }
    const sentJson = receiver.requests.find((request) => pathOf(request).startsWith('/json/'))!;
    expect(pathOf(sentJson)).toBe(`/json/${encodeURIComponent('CUST 448/102')}`);
    expect(JSON.parse(sentJson.body)).toEqual({
      phone: '+306912345678',
      custom: { customerId: 'CUST 448/102' },
      firstName: 'José María',
      status: 'clicked',
      event: 'message.status on sms',
      links: ['https://shop.example/offer?a=1&b=2'],
    });
  });

  test('with keys in any order, the preview and the delivery carry the same fields and values', async () => {
    const receiver = await newReceiver();
    const common = { eventTypes: ['contact.updated'], bodyFields: [{ key: '*', value: 'data', type: 'VARIABLE' }, { key: 'kind', value: '{{type}}' }], retryScheduleSeconds: [] };
    const json = await createWebhook(app.url, { ...common, name: 'json', url: `${receiver.url}/json` });
    const form = await createWebhook(app.url, { ...common, name: 'form', url: `${receiver.url}/form`, bodyFormat: 'FORM' });
    const data = sample('contact.updated');
    const shown = { json: await preview(json.id, data, 'contact.updated'), form: await preview(form.id, data, 'contact.updated') };
    const event = await publishEvent(app.url, { type: 'contact.updated', channel: 'sms', data });
    await allSucceeded([event.id]);
    const sent = { json: to(receiver, '/json')[0]!, form: to(receiver, '/form')[0]! };
    expect(JSON.parse(sent.json.body)).toEqual({ ...data, kind: 'contact.updated' });
    expect(JSON.parse(shown.json.body!)).toEqual(JSON.parse(sent.json.body));
    expect(qs.parse(shown.form.body!)).toEqual(qs.parse(sent.form.body));
    expect((qs.parse(sent.form.body) as any).vars.customer_id).toBe('C-20871');
  });
});

async function preview(webhookId: string, data: Record<string, unknown>, eventType = 'message.status'): Promise<{ method: string; url: string; headers: Record<string, string>; body: string | null }> {
  const result = await gql(`query ($input: TestWebhookInput!) { previewWebhookRequest(input: $input) { method url headers body } }`, {
    input: { webhookId, eventType, channel: 'sms', data },
  });
  return result.previewWebhookRequest;
}
