/**
 * The attempt recorder writes many outcomes in one statement: a failure recorded after a
 * success of the same webhook in that statement must still start a new failure streak.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { createWebhook, graphqlData, publishEvent } from './support/graphql.js';
import { recordAttemptOutcomes, type AttemptOutcomeRecord } from '../src/persistence/sql/record-attempt-outcomes.js';
import type { Hookline } from '../src/server/hookline.js';

let database: TestDatabase;
let app: Hookline;
beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
});
afterAll(async () => {
  await app?.stop();
  await database?.drop();
});

test('a failure recorded in the same batch after a success starts a new streak', async () => {
  const webhook = await createWebhook(app.url, { url: 'http://127.0.0.1:9/x', eventTypes: ['order.*'], retryScheduleSeconds: [] });
  const first = await publishEvent(app.url, { type: 'order.created', data: {} });
  const second = await publishEvent(app.url, { type: 'order.created', data: {} });
  const deliveries = (await database.pool.query('select id, event_id from delivery order by id')).rows;
  await database.pool.query(`update delivery set status = 'SENDING', locked_by = 'w'`);
  const base = Date.now();
  const record = (index: number, success: boolean, startedAt: Date): AttemptOutcomeRecord => ({
    deliveryId: deliveries[index].id, attemptId: uuidv7(), projectId: database.projectId, webhookId: webhook.id, eventId: deliveries[index].event_id,
    number: 1, status: success ? 'SUCCEEDED' : 'FAILED', nextAttemptAt: null, startedAt, durationMs: 5,
    requestMethod: 'POST', requestUrl: webhook.url, requestHeaders: {}, requestBody: '{}',
    responseStatus: success ? 200 : 500, responseHeaders: {}, responseBody: '', error: success ? null : 'HTTP 500', success,
  } as AttemptOutcomeRecord);
  // The dispatcher's outcome writer records attempts that finish together in one statement.
  await recordAttemptOutcomes(database.pool, 'w', [record(0, true, new Date(base)), record(1, false, new Date(base + 50))]);
  expect(first.id && second.id).toBeTruthy();

  const { webhook: stored } = await graphqlData(app.url, 'query ($id: ID!) { webhook(id: $id) { health { state consecutiveFailures failingSince lastSuccessAt lastFailureAt } } }', { id: webhook.id });
  expect(stored.health).toEqual({
    state: 'FAILING',
    consecutiveFailures: 1,
    failingSince: new Date(base + 50).toISOString(),
    lastSuccessAt: new Date(base).toISOString(),
    lastFailureAt: new Date(base + 50).toISOString(),
  });
});
