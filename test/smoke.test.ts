import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { createWebhook, publishEvent } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import type { Hookline } from '../src/server/hookline.js';

let database: TestDatabase;
let app: Hookline;
let receiver: Receiver;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  receiver = await startReceiver();
});

afterAll(async () => {
  await app?.stop();
  await receiver?.close();
  await database?.drop();
});

test('an event reaches a webhook, signed', async () => {
  const webhook = await createWebhook(app.url, { url: `${receiver.url}/hook` });
  const event = await publishEvent(app.url, { type: 'message.status', channel: 'sms', data: { status: 'delivered' } });
  await waitFor(() => receiver.requests.length === 1, { description: 'the request' });
  const request = receiver.requests[0]!;
  const verified = new Webhook(webhook.secret).verify(request.body, request.headers as Record<string, string>);
  expect(verified).toMatchObject({ id: event.id, type: 'message.status', data: { status: 'delivered' } });
  await waitFor(async () => (await database.pool.query(`select status from delivery where status = 'SUCCEEDED'`)).rowCount === 1);
});
