/**
 * Delivery changes travel over NOTIFY only while someone watches them: a process with a live
 * deliveryUpdated subscription holds the watchers lock, and statements look for it. Nobody
 * watching, a statement that made work due sends one empty wake-up instead. These tests listen
 * on the channels with a plain PostgreSQL connection, as another process would.
 */
import { describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { deliveryChangedChannel, deliveryDueChannel, watchBarrierLockKey, watchersLockKey, watchLockClass } from '../src/persistence/sql/notification-channels.js';
import { createWebhook, publishEvent, subscribe, webSocketClient } from './support/graphql.js';
import { trackTestResources } from './support/resources.js';
import { waitFor } from './support/wait.js';

const resources = trackTestResources('each');

const deliveryUpdatedSubscription = `subscription { deliveryUpdated { id eventId status } }`;

interface Heard {
  changes: { id: string; status: string }[];
  dueWakeUps: number;
}

/** A connection LISTENing on both delivery channels, recording what it hears. */
async function listenToDeliveryChannels(databaseUrl: string): Promise<Heard> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  resources.onCleanup(() => client.end());
  const heard: Heard = { changes: [], dueWakeUps: 0 };
  client.on('notification', (message) => {
    if (message.channel === deliveryChangedChannel) heard.changes.push(...JSON.parse(message.payload!));
    if (message.channel === deliveryDueChannel) heard.dueWakeUps++;
  });
  await client.query(`listen ${deliveryChangedChannel}`);
  await client.query(`listen ${deliveryDueChannel}`);
  return heard;
}

/** The watchers lock as pg_locks shows it in this database: how many sessions hold it. */
async function watchersLockHolders(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(
    `select count(*)::int as holders from pg_locks
     where locktype = 'advisory' and granted and classid = $1 and objid = $2 and objsubid = 2
       and database = (select oid from pg_database where datname = current_database())`,
    [watchLockClass, watchersLockKey],
  );
  return rows[0].holders;
}

async function succeededCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(`select count(*)::int as count from delivery where status = 'SUCCEEDED'`);
  return rows[0].count;
}

describe('delivery change notifications', () => {
  test('nobody watching: no change payloads, one wake-up per publish; a subscription turns them on, and its end off', async () => {
    const database = await resources.newDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    resources.onCleanup(() => pool.end());
    const app = await resources.newApp({ databaseUrl: database.url });
    const receiver = await resources.newReceiver();
    await createWebhook(app.url, { name: 'quiet', url: `${receiver.url}/hook`, eventTypes: ['message.*'] });
    const heard = await listenToDeliveryChannels(database.url);

    // Nobody watches: the delivery is queued, claimed and recorded without a single change payload,
    // and the dispatcher was woken by the empty wake-up.
    expect(await watchersLockHolders(pool)).toBe(0);
    await publishEvent(app.url, { type: 'message.received', data: { n: 1 } });
    await waitFor(async () => (await succeededCount(pool)) === 1, { description: 'the first delivery' });
    await waitFor(() => heard.dueWakeUps >= 1, { description: 'the wake-up' });
    expect(heard.changes).toEqual([]);
    expect(receiver.requests).toHaveLength(1);

    // A subscriber arrives: its process holds the watchers lock, and every change is announced.
    const client = webSocketClient(app.url);
    resources.onCleanup(async () => client.dispose());
    const subscription = subscribe<{ deliveryUpdated: { id: string; eventId: string; status: string } }>(client, deliveryUpdatedSubscription);
    await waitFor(async () => (await watchersLockHolders(pool)) === 1, { description: 'the watchers lock' });
    // The lock shows before the subscription is registered: probe events until one is seen.
    const probeIds = new Set<string>();
    await waitFor(
      async () => {
        probeIds.add((await publishEvent(app.url, { type: 'message.received', data: { probe: true } })).id);
        return waitFor(() => subscription.received.some((update) => probeIds.has(update.deliveryUpdated.eventId)), { timeoutMs: 2_000 }).catch(() => false);
      },
      { description: 'the subscription to become active' },
    );
    const event = await publishEvent(app.url, { type: 'message.received', data: { n: 2 } });
    await waitFor(() => subscription.received.some((update) => update.deliveryUpdated.eventId === event.id && update.deliveryUpdated.status === 'SUCCEEDED'), {
      description: 'the subscriber to see SUCCEEDED',
    });
    expect(subscription.received.filter((update) => update.deliveryUpdated.eventId === event.id).map((update) => update.deliveryUpdated.status)).toEqual([
      'PENDING',
      'SENDING',
      'SUCCEEDED',
    ]);
    const deliveryId = subscription.received.find((update) => update.deliveryUpdated.eventId === event.id)!.deliveryUpdated.id;
    await waitFor(() => heard.changes.filter((change) => change.id === deliveryId).length === 3, { description: 'three change payloads on the channel' });

    // Everything sent while watched is announced (the probes too) before the subscription ends.
    await waitFor(async () => (await succeededCount(pool)) === 2 + probeIds.size, { description: 'the probes to succeed' });
    await waitFor(() => heard.changes.filter((change) => change.status === 'SUCCEEDED').length === 1 + probeIds.size, { description: 'their SUCCEEDED payloads' });

    // The subscription ends: the lock is let go, and the payloads stop again.
    subscription.unsubscribe();
    await waitFor(async () => (await watchersLockHolders(pool)) === 0, { description: 'the watchers lock to be released' });
    const payloadsBefore = heard.changes.length;
    const expected = 2 + probeIds.size + 1;
    await publishEvent(app.url, { type: 'message.received', data: { n: 3 } });
    await waitFor(async () => (await succeededCount(pool)) === expected, { description: 'the last delivery' });
    expect(heard.changes).toHaveLength(payloadsBefore);
  });

  test('a subscription starts only once the statements that looked for watchers before it have committed', async () => {
    const database = await resources.newDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    resources.onCleanup(() => pool.end());
    const app = await resources.newApp({ databaseUrl: database.url, withoutDispatcher: true });

    // A statement in flight: it holds the barrier (shared) until its transaction ends.
    const inFlight = await pool.connect();
    resources.onCleanup(async () => inFlight.release());
    await inFlight.query('begin');
    await inFlight.query('select pg_advisory_xact_lock_shared($1, $2)', [watchLockClass, watchBarrierLockKey]);

    const client = webSocketClient(app.url);
    resources.onCleanup(async () => client.dispose());
    subscribe(client, deliveryUpdatedSubscription);
    // The subscribing process took the watchers lock and now waits for the barrier.
    const waitingForBarrier = async () => {
      const { rows } = await pool.query(
        `select count(*)::int as waiting from pg_locks
         where locktype = 'advisory' and not granted and mode = 'ExclusiveLock' and classid = $1 and objid = $2 and objsubid = 2
           and database = (select oid from pg_database where datname = current_database())`,
        [watchLockClass, watchBarrierLockKey],
      );
      return rows[0].waiting === 1;
    };
    await waitFor(waitingForBarrier, { description: 'the subscription to wait for the barrier' });
    expect(await watchersLockHolders(pool)).toBe(1);

    await inFlight.query('commit');
    // The subscribing process takes the barrier and lets it go at once: soon nobody holds it or waits for it.
    const barrierLocks = async () => {
      const { rows } = await pool.query(
        `select count(*)::int as locks from pg_locks
         where locktype = 'advisory' and classid = $1 and objid = $2 and objsubid = 2
           and database = (select oid from pg_database where datname = current_database())`,
        [watchLockClass, watchBarrierLockKey],
      );
      return rows[0].locks as number;
    };
    await waitFor(async () => (await barrierLocks()) === 0, { description: 'the subscription to take and release the barrier' });
    expect(await watchersLockHolders(pool)).toBe(1);
  });
});
