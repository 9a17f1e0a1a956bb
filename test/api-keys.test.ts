/**
 * API keys: created and shown once, stored only as a SHA-256 hash, listed by prefix, revoked
 * for good (at once, also on open subscriptions, in every process on the database), and the
 * first key a fresh installation makes for itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'graphql-ws';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp } from './support/app.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { closedWith, createWebhook, graphql, graphqlData, publishEvent, subscribe, watchClose, webSocketClient, type GraphQLResult } from './support/graphql.js';
import { waitFor } from './support/wait.js';
import type { Hookline } from '../src/server/hookline.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const createApiKeyMutation = `mutation ($name: String) { createApiKey(name: $name) { apiKey key { id prefix name createdAt lastUsedAt revokedAt } } }`;
const revokeApiKeyMutation = `mutation ($id: ID!) { revokeApiKey(id: $id) }`;
const apiKeysQuery = `{ apiKeys { nodes { id prefix name createdAt lastUsedAt revokedAt } } }`;
const deliveryUpdatedSubscription = `subscription { deliveryUpdated { id eventId status } }`;

interface CreatedApiKey {
  apiKey: string;
  key: { id: string; prefix: string; name: string | null; createdAt: string; lastUsedAt: string | null; revokedAt: string | null };
}

function codesOf(result: GraphQLResult): (string | undefined)[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}

/** A POST to /graphql with a key, and the HTTP status it got. */
async function postWithKey(url: string, apiKey: string, query: string): Promise<{ status: number; body: GraphQLResult }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResult };
}

/** Returns once every subscription has heard an update of a probe event published by `publish`. */
async function untilAllHear(subscriptions: { received: { deliveryUpdated: { eventId: string } }[] }[], publish: () => Promise<{ id: string }>): Promise<void> {
  const probes = new Set<string>();
  const heard = () => subscriptions.every((subscription) => subscription.received.some((message) => probes.has(message.deliveryUpdated.eventId)));
  await waitFor(
    async () => {
      probes.add((await publish()).id);
      return waitFor(heard, { timeoutMs: 1_000 }).catch(() => false);
    },
    { timeoutMs: 30_000, description: 'the subscriptions to hear a probe' },
  );
}

/** A database cloned from the migrated template like createTestDatabase's, but without any project or key. */
async function createEmptyDatabase(): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const adminUrl = process.env['HOOKLINE_TEST_ADMIN_URL']!;
  // The run id in the name lets the global teardown find it if this file dies before drop().
  const name = `hookline_test_${process.env['HOOKLINE_TEST_RUN_ID']}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${process.env['HOOKLINE_TEST_TEMPLATE']}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function counts(pool: pg.Pool): Promise<{ projects: number; keys: number }> {
  const row = (await pool.query('select (select count(*) from project)::int as projects, (select count(*) from api_key)::int as keys')).rows[0];
  return { projects: row.projects, keys: row.keys };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

// ---------------------------------------------------------------------------------------------

describe('the keys of a project', () => {
  let database: TestDatabase;
  let app: Hookline;
  /** A second app on the same database: another process, as far as Hookline can tell. */
  let app2: Hookline;
  let receiver: Receiver;
  const clients: Client[] = [];

  const createApiKey = async (name: string | null): Promise<CreatedApiKey> => (await graphqlData(app.url, createApiKeyMutation, { name })).createApiKey;
  const asKey = (apiKey: string, query: string, variables: Record<string, unknown> = {}) => graphql(app.url, query, variables, { apiKey });
  const listedKeys = async (): Promise<CreatedApiKey['key'][]> => (await graphqlData(app.url, apiKeysQuery)).apiKeys.nodes;
  const publishProbe = () => publishEvent(app.url, { type: 'probe.ping', data: {} });
  const client = (url: string, apiKey: string) => {
    const created = webSocketClient(url, { apiKey });
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startTestApp({ databaseUrl: database.url });
    app2 = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true });
    receiver = await startReceiver();
    // Probe events give live subscriptions something to carry.
    await createWebhook(app.url, { name: 'probe', url: `${receiver.url}/probe`, eventTypes: ['probe.*'] });
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((created) => created.dispose()));
    await app2?.stop();
    await app?.stop();
    await receiver?.close();
    await database?.drop();
  });

  test('createApiKey shows the new key once, with its id, prefix, name and creation time', async () => {
    const before = Date.now();
    const created = await createApiKey('ci deploy');
    expect(created.apiKey).toMatch(/^hk_[A-Za-z0-9_-]{32,}$/);
    expect(created.key).toEqual({ id: expect.any(String), prefix: expect.any(String), name: 'ci deploy', createdAt: expect.any(String), lastUsedAt: null, revokedAt: null });
    expect(created.key.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(Date.parse(created.key.createdAt)).toBeGreaterThan(before - 60_000);
    // The prefix is the key's first characters: enough to recognise it, far from all of it.
    expect(created.apiKey.startsWith(created.key.prefix)).toBe(true);
    expect(created.key.prefix).toMatch(/^hk_/);
    expect(created.key.prefix.length).toBeLessThanOrEqual(created.apiKey.length / 2);

    const unnamed = await createApiKey(null);
    expect(unnamed.key.name).toBeNull();
    expect(unnamed.apiKey).not.toBe(created.apiKey);
    expect(unnamed.key.prefix).not.toBe(created.key.prefix);
  });

  test('a new key works at once, for its own project', async () => {
    const created = await createApiKey('works at once');
    const result = await asKey(created.apiKey, '{ project { id name } }');
    expect(result).toEqual({ data: { project: { id: database.projectId, name: 'test' } } });
    // Its use is recorded (to the minute).
    const listed = (await listedKeys()).find((key) => key.id === created.key.id)!;
    expect(listed.lastUsedAt).not.toBeNull();
  });

  test('the database holds only the SHA-256 hash of a key, never the key', async () => {
    const created = await createApiKey('hashed');
    const row = (await database.pool.query('select * from api_key where id = $1', [created.key.id])).rows[0];
    expect(row.key_hash).toBe(sha256(created.apiKey));
    expect(row.prefix).toBe(created.key.prefix);
    for (const [column, value] of Object.entries(row)) {
      expect({ column, holdsTheKey: value !== null && String(value).includes(created.apiKey) }).toEqual({ column, holdsTheKey: false });
    }
    // Nowhere in the table, for any key.
    const table = JSON.stringify((await database.pool.query('select * from api_key')).rows);
    expect(table).not.toContain(created.apiKey);
    expect(table).not.toContain(database.apiKey);
  });

  test('apiKeys lists a key by its prefix, never the whole key', async () => {
    const created = await createApiKey('listed');
    const response = await graphqlData(app.url, apiKeysQuery);
    expect(response.apiKeys.nodes).toContainEqual({ ...created.key, lastUsedAt: null });
    const text = JSON.stringify(response);
    expect(text).not.toContain(created.apiKey);
    expect(text).not.toContain(database.apiKey);
  });

  test('a revoked key is UNAUTHENTICATED on the very next request, over HTTP and WebSocket; other keys go on working', async () => {
    const created = await createApiKey('to revoke');
    expect((await postWithKey(app.url, created.apiKey, '{ project { id } }')).status).toBe(200);

    expect(await graphqlData(app.url, revokeApiKeyMutation, { id: created.key.id })).toEqual({ revokeApiKey: true });
    const refused = await postWithKey(app.url, created.apiKey, '{ project { id } }');
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(refused.body.data).toBeUndefined();
    // In the other process too.
    expect((await postWithKey(app2.url, created.apiKey, '{ project { id } }')).status).toBe(401);

    const socket = client(app.url, created.apiKey);
    const closed = watchClose(socket);
    subscribe(socket, deliveryUpdatedSubscription);
    expect(await closedWith(closed)).toBe(4403);

    const listed = (await listedKeys()).find((key) => key.id === created.key.id)!;
    expect(listed.revokedAt).not.toBeNull();
    expect((await postWithKey(app.url, database.apiKey, '{ project { id } }')).status).toBe(200);
  });

  test('revoking a key closes its open deliveryUpdated subscription (close code 4401); other subscriptions stay open', async () => {
    const created = await createApiKey('live');
    const revokedSocket = client(app.url, created.apiKey);
    const otherSocket = client(app.url, database.apiKey);
    const revokedClosed = watchClose(revokedSocket);
    const otherClosed = watchClose(otherSocket);
    const onRevokedKey = subscribe(revokedSocket, deliveryUpdatedSubscription);
    const onOtherKey = subscribe(otherSocket, deliveryUpdatedSubscription);
    await untilAllHear([onRevokedKey, onOtherKey], publishProbe);
    expect(revokedClosed.code).toBeNull();

    expect(await graphqlData(app.url, revokeApiKeyMutation, { id: created.key.id })).toEqual({ revokeApiKey: true });
    expect(await closedWith(revokedClosed)).toBe(4401);

    // The subscription of another key still carries updates.
    const heardBefore = onOtherKey.received.length;
    const event = await publishProbe();
    await waitFor(() => onOtherKey.received.slice(heardBefore).some((message) => message.deliveryUpdated.eventId === event.id), { description: 'an update after the revocation' });
    expect(otherClosed.code).toBeNull();
    expect(onRevokedKey.received.some((message) => message.deliveryUpdated.eventId === event.id)).toBe(false);
  });

  test('a key revoked through another process closes the subscription opened with it here', async () => {
    const created = await createApiKey('live elsewhere');
    const socket = client(app.url, created.apiKey);
    const closed = watchClose(socket);
    const subscription = subscribe(socket, deliveryUpdatedSubscription);
    await untilAllHear([subscription], publishProbe);
    expect(closed.code).toBeNull();

    // Revoked through app2: app1 hears of it from the database.
    expect(await graphqlData(app2.url, revokeApiKeyMutation, { id: created.key.id })).toEqual({ revokeApiKey: true });
    expect(await closedWith(closed)).toBe(4401);
    expect((await postWithKey(app.url, created.apiKey, '{ project { id } }')).status).toBe(401);
  });

  test('revoking an unknown id is NOT_FOUND', async () => {
    const keysBefore = (await database.pool.query('select id, revoked_at from api_key order by id')).rows;
    for (const id of [uuidv7(), 'not-an-id']) {
      const result = await graphql(app.url, revokeApiKeyMutation, { id });
      expect({ id, codes: codesOf(result), data: result.data }).toEqual({ id, codes: ['NOT_FOUND'], data: null });
    }
    expect((await database.pool.query('select id, revoked_at from api_key order by id')).rows).toEqual(keysBefore);
  });

  test('revoking twice is fine and keeps the first revokedAt', async () => {
    const created = await createApiKey('twice');
    expect(await graphqlData(app.url, revokeApiKeyMutation, { id: created.key.id })).toEqual({ revokeApiKey: true });
    const first = (await database.pool.query('select revoked_at from api_key where id = $1', [created.key.id])).rows[0].revoked_at as Date;
    const listedFirst = (await listedKeys()).find((key) => key.id === created.key.id)!.revokedAt;
    expect(first).toBeInstanceOf(Date);
    // A later transaction's now() is later: the second revocation must not be the one kept.
    await waitFor(async () => (await database.pool.query('select now() > $1::timestamptz as later', [first])).rows[0].later);

    expect(await graphqlData(app.url, revokeApiKeyMutation, { id: created.key.id })).toEqual({ revokeApiKey: true });
    expect((await database.pool.query('select revoked_at from api_key where id = $1', [created.key.id])).rows[0].revoked_at).toEqual(first);
    expect((await listedKeys()).find((key) => key.id === created.key.id)!.revokedAt).toBe(listedFirst);
    expect((await postWithKey(app.url, created.apiKey, '{ project { id } }')).status).toBe(401);
  });
});

describe('the first start', () => {
  test('on a database without a project, a default project and a key are created; the key works and is written to <dataDir>/api-key, mode 0600', async () => {
    const database = await createEmptyDatabase();
    const apps: Hookline[] = [];
    try {
      expect(await counts(database.pool)).toEqual({ projects: 0, keys: 0 });
      // A data directory that does not exist yet.
      const dataDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hookline-first-start-')), 'data');
      const first = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true, config: { dataDir } });
      apps.push(first);

      const key = first.initialApiKey!;
      expect(key).toMatch(/^hk_[A-Za-z0-9_-]{32,}$/);
      expect(await graphql(first.url, '{ project { name } }', {}, { apiKey: key })).toEqual({ data: { project: { name: 'default' } } });
      const file = path.join(dataDir, 'api-key');
      expect((await readFile(file, 'utf8')).trim()).toBe(key);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await counts(database.pool)).toEqual({ projects: 1, keys: 1 });
      expect((await database.pool.query('select key_hash from api_key')).rows).toEqual([{ key_hash: sha256(key) }]);

      // A second start on the same database makes nothing new, and writes no key file.
      const secondDataDir = await mkdtemp(path.join(os.tmpdir(), 'hookline-second-start-'));
      const second = await startTestApp({ databaseUrl: database.url, withoutDispatcher: true, config: { dataDir: secondDataDir } });
      apps.push(second);
      expect(second.initialApiKey).toBeNull();
      expect(await counts(database.pool)).toEqual({ projects: 1, keys: 1 });
      expect(await exists(path.join(secondDataDir, 'api-key'))).toBe(false);
      expect(await graphql(second.url, '{ project { name } }', {}, { apiKey: key })).toEqual({ data: { project: { name: 'default' } } });
    } finally {
      for (const app of apps) await app.stop();
      await database.drop();
    }
  });

  test('two apps starting at the same time on an empty database create exactly one project and one key', async () => {
    const database = await createEmptyDatabase();
    const dataDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'hookline-race-'))));
    // Line the two first starts up: while this transaction holds the project table, reading it
    // is allowed but creating a project waits. Once both starts are waiting (on this lock, or
    // on each other), they are released together.
    const gate = new pg.Client({ connectionString: database.url });
    await gate.connect();
    await gate.query('begin');
    await gate.query('lock table project in exclusive mode');
    const starting = Promise.allSettled(dataDirs.map((dataDir) => startTestApp({ databaseUrl: database.url, withoutDispatcher: true, config: { dataDir } })));
    await waitFor(
      async () => {
        const waiting = await database.pool.query(`select count(*)::int as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        return waiting.rows[0].count >= 2;
      },
      { timeoutMs: 10_000 },
    ).catch(() => undefined);
    await gate.query('commit');
    await gate.end();
    const started = await starting;
    const apps = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      expect(started.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
      const keys = apps.map((app) => app.initialApiKey).filter((key): key is string => key !== null);
      expect(keys).toHaveLength(1);
      expect(await counts(database.pool)).toEqual({ projects: 1, keys: 1 });
      const files = await Promise.all(dataDirs.map((dataDir) => exists(path.join(dataDir, 'api-key'))));
      expect(files.filter(Boolean)).toHaveLength(1);
      for (const app of apps) {
        expect(await graphql(app.url, '{ project { name } }', {}, { apiKey: keys[0]! })).toEqual({ data: { project: { name: 'default' } } });
      }
    } finally {
      for (const app of apps) await app.stop();
      await database.drop();
    }
  });
});
