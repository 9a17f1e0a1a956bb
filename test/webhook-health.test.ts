/**
 * Webhook health: the failure streak and attempt figures every webhook shows, the
 * `webhook.failing` report (once per streak), the auto-disable after five days without a
 * single success (`webhook.disabled`), and `webhookHealthChanged` for live watchers.
 *
 * The health sweep runs when a test calls it (apps start without the scheduler), and the
 * test moves time on through the sweep's `now` argument. Each describe has its own database,
 * since the sweep looks at every webhook of the project.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Answer, type Receiver } from './support/receiver.js';
import { createWebhook, graphqlData, publishEvent, subscribe, webSocketClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import { webhookHealthChannel } from '../src/persistence/sql/notification-channels.js';
import type { Hookline } from '../src/server/hookline.js';

const hour = 3600 * 1000;
const day = 24 * hour;

// ---------------------------------------------------------------------------------------------
// Helpers

interface AttemptFigures {
  attempts: number;
  successes: number;
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

interface Health {
  state: 'HEALTHY' | 'FAILING' | 'DISABLED' | 'STOPPED';
  consecutiveFailures: number;
  failingSince: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  lastHour: AttemptFigures;
  lastDay: AttemptFigures;
}

interface HealthChange {
  webhookId: string;
  kind: 'FAILING' | 'DISABLED' | 'RECOVERED';
  webhook: { id: string; active: boolean; health: { state: string; consecutiveFailures: number } } | null;
}

const healthFields = `health {
  state consecutiveFailures failingSince lastSuccessAt lastFailureAt disabledAt disabledReason
  lastHour { attempts successes successRate latencyP50Ms latencyP95Ms latencyP99Ms }
  lastDay { attempts successes successRate latencyP50Ms latencyP95Ms latencyP99Ms }
}`;

async function webhookHealth(app: Hookline, id: string): Promise<{ active: boolean; health: Health }> {
  const data = await graphqlData(app.url, `query ($id: ID!) { webhook(id: $id) { id active ${healthFields} } }`, { id });
  return data.webhook;
}

async function startWebhook(app: Hookline, id: string): Promise<{ active: boolean; health: Health }> {
  return (await graphqlData(app.url, `mutation ($id: ID!) { startWebhook(id: $id) { id active ${healthFields} } }`, { id })).startWebhook;
}

/** Parsed bodies (the event envelope) of what a receiver got. */
function envelopes(receiver: Receiver): { id: string; type: string; data: Record<string, any> }[] {
  return receiver.requests.map((request) => JSON.parse(request.body));
}

async function deliveryCount(database: TestDatabase, webhookId: string, status?: string): Promise<number> {
  const result = await database.pool.query(
    `select count(*)::int as count from delivery where webhook_id = $1 and ($2::text is null or status = $2)`,
    [webhookId, status ?? null],
  );
  return result.rows[0].count;
}

/** Drives an API-only app's dispatcher until nothing due is left. */
async function drain(app: Hookline): Promise<void> {
  for (;;) {
    const claimed = await app.dispatcher.runOnce();
    await app.dispatcher.whenIdle();
    if (claimed === 0) return;
  }
}

/**
 * Subscribes to every health change of the project and returns once the server has registered
 * the subscription: a probe notice (for a webhook id that does not exist) is sent on the health
 * channel, the way a sweep in another process announces a change, until one arrives.
 */
async function watchHealthChanges(app: Hookline, database: TestDatabase, clients: Client[]) {
  const client = webSocketClient(app.url);
  clients.push(client);
  const subscription = subscribe<{ webhookHealthChanged: HealthChange }>(
    client,
    `subscription ($webhookId: ID) {
      webhookHealthChanged(webhookId: $webhookId) { webhookId kind webhook { id active health { state consecutiveFailures } } }
    }`,
  );
  const changes = () => subscription.received.map((message) => message.webhookHealthChanged);
  const probes = new Set<string>();
  await waitFor(
    async () => {
      const probe = randomUUID();
      probes.add(probe);
      await database.pool.query('select pg_notify($1, $2)', [
        webhookHealthChannel,
        JSON.stringify({ webhookId: probe, projectId: database.projectId, state: 'RECOVERED' }),
      ]);
      return waitFor(() => changes().some((change) => probes.has(change.webhookId)), { timeoutMs: 2_000 }).catch(() => false);
    },
    { timeoutMs: 30_000, description: 'the health subscription to become active' },
  );
  expect(subscription.errors).toEqual([]);
  return {
    errors: subscription.errors,
    of: (webhookId: string) => changes().filter((change) => change.webhookId === webhookId),
  };
}

/** Everything one describe starts, released in its afterAll. */
function environment(options: { withoutDispatcher: boolean }) {
  const state = {
    database: undefined as unknown as TestDatabase,
    app: undefined as unknown as Hookline,
    receivers: [] as Receiver[],
    clients: [] as Client[],
    async receiver(fallback?: Answer): Promise<Receiver> {
      const receiver = await startReceiver(fallback);
      state.receivers.push(receiver);
      return receiver;
    },
  };
  beforeAll(async () => {
    state.database = await createTestDatabase();
    state.app = await startTestApp({ databaseUrl: state.database.url, withoutScheduler: true, withoutDispatcher: options.withoutDispatcher });
  });
  afterAll(async () => {
    await Promise.all(state.clients.splice(0).map((client) => client.dispose()));
    await state.app?.stop();
    await Promise.all(state.receivers.map((receiver) => receiver.close()));
    await state.database?.drop();
  });
  return state;
}

// ---------------------------------------------------------------------------------------------

describe('health figures', () => {
  const env = environment({ withoutDispatcher: false });

  test('attempt counts, success rate, latency percentiles and the failure streak follow the attempts made', async () => {
    const { app, database } = env;
    const receiver = await env.receiver();
    const answers: Answer[] = [...Array(8).fill({ status: 200, delayMs: 20 }), ...Array(2).fill({ status: 500, delayMs: 20 })];
    receiver.queue(...answers);
    const webhook = await createWebhook(app.url, { name: 'crm', url: `${receiver.url}/hook`, eventTypes: ['order.*'], retryScheduleSeconds: [] });

    // One at a time, so the outcomes happen in a known order: eight successes, then two failures.
    for (let index = 1; index <= 10; index++) {
      await publishEvent(app.url, { type: 'order.created', data: { orderId: index } });
      await waitFor(async () => (await database.pool.query('select 1 from attempt where webhook_id = $1', [webhook.id])).rowCount === index, {
        description: `attempt ${index}`,
      });
    }
    expect(await deliveryCount(database, webhook.id, 'SUCCEEDED')).toBe(8);
    expect(await deliveryCount(database, webhook.id, 'FAILED')).toBe(2);

    const { active, health } = await webhookHealth(app, webhook.id);
    expect(active).toBe(true);
    for (const figures of [health.lastHour, health.lastDay]) {
      expect(figures).toMatchObject({ attempts: 10, successes: 8, successRate: 0.8 });
      expect(figures.latencyP50Ms).not.toBeNull();
      expect(figures.latencyP95Ms).not.toBeNull();
      expect(figures.latencyP99Ms).not.toBeNull();
      // Every answer took at least the receiver's 20 ms.
      expect(figures.latencyP50Ms!).toBeGreaterThanOrEqual(19);
      expect(figures.latencyP50Ms!).toBeLessThanOrEqual(figures.latencyP95Ms!);
      expect(figures.latencyP95Ms!).toBeLessThanOrEqual(figures.latencyP99Ms!);
    }
    expect(health.lastDay).toEqual(health.lastHour);

    const attempts = (await database.pool.query('select started_at, success from attempt where webhook_id = $1 order by started_at', [webhook.id])).rows;
    expect(attempts.map((attempt) => attempt.success)).toEqual([true, true, true, true, true, true, true, true, false, false]);
    expect(health).toMatchObject({ state: 'FAILING', consecutiveFailures: 2, disabledAt: null, disabledReason: null });
    expect(Date.parse(health.lastSuccessAt!)).toBe(attempts[7].started_at.getTime());
    expect(Date.parse(health.failingSince!)).toBe(attempts[8].started_at.getTime());
    expect(Date.parse(health.lastFailureAt!)).toBe(attempts[9].started_at.getTime());
  });

  test('a webhook without attempts is HEALTHY with no figures', async () => {
    const receiver = await env.receiver();
    const webhook = await createWebhook(env.app.url, { name: 'quiet', url: receiver.url, eventTypes: ['nothing.ever'] });
    const { health } = await webhookHealth(env.app, webhook.id);
    const none = { attempts: 0, successes: 0, successRate: null, latencyP50Ms: null, latencyP95Ms: null, latencyP99Ms: null };
    expect(health).toEqual({
      state: 'HEALTHY',
      consecutiveFailures: 0,
      failingSince: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      disabledAt: null,
      disabledReason: null,
      lastHour: none,
      lastDay: none,
    });
  });

  test('a webhook stopped by a user is STOPPED, not DISABLED', async () => {
    const receiver = await env.receiver();
    const webhook = await createWebhook(env.app.url, { name: 'paused', url: receiver.url, eventTypes: ['nothing.ever'] });
    await graphqlData(env.app.url, 'mutation ($id: ID!) { stopWebhook(id: $id) { id } }', { id: webhook.id });
    const { active, health } = await webhookHealth(env.app, webhook.id);
    expect(active).toBe(false);
    expect(health).toMatchObject({ state: 'STOPPED', disabledAt: null, disabledReason: null });
  });
});

describe('webhook.failing', () => {
  const env = environment({ withoutDispatcher: false });

  test('is reported once per failure streak, to the webhooks that want it and to subscribers; a success announces the recovery', async () => {
    const { app, database } = env;
    const failingReceiver = await env.receiver({ status: 500, body: 'down' });
    const opsReceiver = await env.receiver();
    const x = await createWebhook(app.url, { name: 'crm', url: `${failingReceiver.url}/crm`, eventTypes: ['order.*'], retryScheduleSeconds: [] });
    const ops = await createWebhook(app.url, { name: 'ops', url: `${opsReceiver.url}/ops`, eventTypes: ['webhook.*'] });
    const watcher = await watchHealthChanges(app, database, env.clients);

    const failOnce = async (count: number) => {
      await publishEvent(app.url, { type: 'order.created', data: { orderId: count } });
      await waitFor(async () => (await deliveryCount(database, x.id, 'FAILED')) === count, { description: `${count} failed deliveries` });
    };

    for (let count = 1; count <= 4; count++) await failOnce(count);
    // Four failures in a row are below the threshold of five.
    expect((await app.sweeps.webhookHealth.run()).failing).toEqual([]);
    expect((await webhookHealth(app, x.id)).health).toMatchObject({ state: 'FAILING', consecutiveFailures: 4 });

    await failOnce(5);
    const first = await app.sweeps.webhookHealth.run();
    expect(first.failing.map((change) => change.id)).toEqual([x.id]);
    expect(first.disabled).toEqual([]);

    await waitFor(() => opsReceiver.requests.length >= 1, { description: 'the webhook.failing event' });
    const request = opsReceiver.requests[0]!;
    const envelope = new StandardWebhook(ops.secret).verify(request.body, request.headers as Record<string, string>) as any;
    expect(envelope.type).toBe('webhook.failing');
    expect(envelope.data).toMatchObject({ webhookId: x.id, name: 'crm', url: `${failingReceiver.url}/crm`, lastSuccessAt: null });
    expect(envelope.data.consecutiveFailures).toBeGreaterThanOrEqual(5);
    expect(envelope.data.failingSince).toEqual(expect.any(String));
    expect(envelope.data.lastFailureAt).toEqual(expect.any(String));

    await waitFor(() => watcher.of(x.id).length >= 1, { description: 'FAILING for X' });
    expect(watcher.of(x.id)[0]).toMatchObject({ kind: 'FAILING', webhook: { id: x.id, active: true, health: { state: 'FAILING' } } });

    // The same streak goes on: no second report, however often the sweep runs.
    await failOnce(6);
    expect((await app.sweeps.webhookHealth.run()).failing).toEqual([]);
    expect((await app.sweeps.webhookHealth.run()).failing).toEqual([]);
    await app.dispatcher.whenIdle();
    const reports = await database.pool.query(`select data->>'webhookId' as webhook_id from event where type = 'webhook.failing'`);
    expect(reports.rows).toEqual([{ webhook_id: x.id }]);
    expect(envelopes(opsReceiver).map((event) => event.type)).toEqual(['webhook.failing']);

    // The receiver comes back: one success ends the streak.
    failingReceiver.setScript(() => ({ status: 200, body: 'ok' }));
    await publishEvent(app.url, { type: 'order.created', data: { orderId: 7 } });
    await waitFor(() => watcher.of(x.id).some((change) => change.kind === 'RECOVERED'), { description: 'RECOVERED for X' });
    expect(watcher.of(x.id).map((change) => change.kind)).toEqual(['FAILING', 'RECOVERED']);
    const recovered = await webhookHealth(app, x.id);
    expect(recovered.health).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, failingSince: null });
    expect(recovered.health.lastSuccessAt).not.toBeNull();
    expect(Date.parse(recovered.health.lastSuccessAt!)).toBeGreaterThan(Date.parse(recovered.health.lastFailureAt!));

    // A new streak is a new story: it is reported again.
    failingReceiver.setScript(() => ({ status: 500, body: 'down again' }));
    for (let count = 7; count <= 11; count++) await failOnce(count);
    expect((await app.sweeps.webhookHealth.run()).failing.map((change) => change.id)).toEqual([x.id]);
    await waitFor(() => opsReceiver.requests.length === 2, { description: 'the second webhook.failing event' });
    const second = envelopes(opsReceiver)[1]!;
    expect(second).toMatchObject({ type: 'webhook.failing', data: { webhookId: x.id, consecutiveFailures: 5 } });
    expect(Date.parse(second.data.lastSuccessAt)).toBe(Date.parse(recovered.health.lastSuccessAt!));
    await waitFor(() => watcher.of(x.id).length === 3, { description: 'the second FAILING' });
    expect(watcher.of(x.id).map((change) => change.kind)).toEqual(['FAILING', 'RECOVERED', 'FAILING']);
    expect(watcher.errors).toEqual([]);
  });
});

describe('auto-disable', () => {
  // API-only: the test drives the dispatcher, so deliveries can be left queued on purpose.
  const env = environment({ withoutDispatcher: true });

  test('a webhook failing for over five days is stopped, its queued deliveries kept, and startWebhook resumes them', async () => {
    const { app, database } = env;
    const failingReceiver = await env.receiver({ status: 500, body: 'down' });
    const recoveringReceiver = await env.receiver();
    const opsReceiver = await env.receiver();
    // X retries after ten minutes: its failed deliveries stay RETRYING.
    const x = await createWebhook(app.url, { name: 'crm', url: `${failingReceiver.url}/crm`, eventTypes: ['order.*'], retryScheduleSeconds: [600] });
    const y = await createWebhook(app.url, { name: 'billing', url: `${recoveringReceiver.url}/billing`, eventTypes: ['invoice.*'], retryScheduleSeconds: [] });
    const ops = await createWebhook(app.url, { name: 'ops', url: `${opsReceiver.url}/ops`, eventTypes: ['webhook.*'] });
    const watcher = await watchHealthChanges(app, database, env.clients);

    // Y failed too, but its latest attempt succeeded.
    recoveringReceiver.queue({ status: 500 }, { status: 500 });
    for (let invoiceId = 1; invoiceId <= 3; invoiceId++) {
      await publishEvent(app.url, { type: 'invoice.paid', data: { invoiceId } });
      await drain(app);
    }

    // X: three attempts fail (RETRYING), then two more deliveries are queued and not attempted yet.
    for (let orderId = 1; orderId <= 3; orderId++) await publishEvent(app.url, { type: 'order.created', data: { orderId } });
    await drain(app);
    expect(await deliveryCount(database, x.id, 'RETRYING')).toBe(3);
    for (let orderId = 4; orderId <= 5; orderId++) await publishEvent(app.url, { type: 'order.created', data: { orderId } });
    expect(await deliveryCount(database, x.id, 'PENDING')).toBe(2);
    const yHealth = (await webhookHealth(app, y.id)).health;
    expect(yHealth).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, failingSince: null, lastHour: { attempts: 3, successes: 1 } });
    expect(Date.parse(yHealth.lastSuccessAt!)).toBeGreaterThan(Date.parse(yHealth.lastFailureAt!));
    expect((await webhookHealth(app, x.id)).health).toMatchObject({ state: 'FAILING', consecutiveFailures: 3 });
    const failingSince = (await webhookHealth(app, x.id)).health.failingSince!;

    // Failing for minutes, or for four days, is not enough.
    expect((await app.sweeps.webhookHealth.run()).disabled).toEqual([]);
    expect((await app.sweeps.webhookHealth.run(new Date(Date.now() + 4 * day))).disabled).toEqual([]);
    expect((await webhookHealth(app, x.id)).active).toBe(true);

    // Six days on, X has failed without a single success for more than five days.
    const sweep = await app.sweeps.webhookHealth.run(new Date(Date.now() + 6 * day));
    expect(sweep.disabled.map((change) => change.id)).toEqual([x.id]);

    const disabled = await webhookHealth(app, x.id);
    expect(disabled.active).toBe(false);
    expect(disabled.health.state).toBe('DISABLED');
    expect(disabled.health.disabledAt).not.toBeNull();
    expect(disabled.health.disabledReason).toBe(`failed without a single success since ${failingSince}`);
    expect(await webhookHealth(app, y.id)).toMatchObject({ active: true, health: { state: 'HEALTHY', disabledAt: null } });

    // Its queued deliveries are kept, waiting with no due time.
    const held = await database.pool.query('select status, next_attempt_at from delivery where webhook_id = $1 order by id', [x.id]);
    expect(held.rows.map((row) => row.status)).toEqual(['RETRYING', 'RETRYING', 'RETRYING', 'PENDING', 'PENDING']);
    expect(held.rows.every((row) => row.next_attempt_at === null)).toBe(true);

    // The project hears of it: its ops webhook gets webhook.disabled, subscribers get DISABLED.
    await drain(app);
    const reports = envelopes(opsReceiver);
    expect(reports.map((event) => event.type)).toEqual(['webhook.disabled']);
    expect(reports[0]!.data).toMatchObject({ webhookId: x.id, name: 'crm', failingSince, reason: `failed without a single success since ${failingSince}` });
    expect(new StandardWebhook(ops.secret).verify(opsReceiver.requests[0]!.body, opsReceiver.requests[0]!.headers as Record<string, string>)).toBeTruthy();
    await waitFor(() => watcher.of(x.id).length >= 1, { description: 'DISABLED for X' });
    expect(watcher.of(x.id)).toEqual([{ webhookId: x.id, kind: 'DISABLED', webhook: { id: x.id, active: false, health: { state: 'DISABLED', consecutiveFailures: 3 } } }]);
    expect(failingReceiver.requests).toHaveLength(3);

    // New events no longer go to X.
    const later = await publishEvent(app.url, { type: 'order.created', data: { orderId: 6 } });
    expect((await database.pool.query('select 1 from delivery where event_id = $1', [later.id])).rowCount).toBe(0);

    // Started again: a fresh start, and the held deliveries go out.
    failingReceiver.setScript(() => ({ status: 200, body: 'ok' }));
    const started = await startWebhook(app, x.id);
    expect(started.active).toBe(true);
    expect(started.health).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, failingSince: null, disabledAt: null, disabledReason: null });
    await drain(app);
    expect(await deliveryCount(database, x.id, 'SUCCEEDED')).toBe(5);
    expect(failingReceiver.requests).toHaveLength(8);
    expect((await app.sweeps.webhookHealth.run(new Date(Date.now() + 6 * day))).disabled).toEqual([]);
    expect(watcher.errors).toEqual([]);
  });
});
