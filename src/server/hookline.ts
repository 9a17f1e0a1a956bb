/**
 * Puts Hookline together: the database (embedded unless DATABASE_URL is given), the
 * notification listener, the dispatcher and its scheduler, and the HTTP/WebSocket server.
 * main.ts runs it for real; tests start as many as they need, on the databases they choose.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config.js';
import { AddressPolicy } from '../delivery/address-policy.js';
import { createHttpSender, type Sender } from '../delivery/http-sender.js';
import { Dispatcher } from '../dispatcher/dispatcher.js';
import { createContext } from '../graphql/context.js';
import { createDeliveryPubSub, topics, type DeliveryChange, type WebhookHealthNotice } from '../graphql/pub-sub.js';
import { createSchema } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { bearerToken, sameSecret } from '../domain/api-keys.js';
import { UnauthenticatedError } from '../domain/errors.js';
import { openDatabase, type Database } from '../persistence/database.js';
import { AccessService } from '../services/access-service.js';
import { NotificationListener } from '../persistence/notification-listener.js';
import { releaseExpiredLeases } from '../persistence/sql/hand-back-deliveries.js';
import { apiKeyRevokedChannel, deliveryChangedChannel, deliveryDueChannel, webhookHealthChannel } from '../persistence/sql/notification-channels.js';
import { RetentionSweep } from '../services/retention-sweep.js';
import { WebhookHealthSweep } from '../services/webhook-health-sweep.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { startHttpServer, type HealthReport, type RunningHttpServer } from './http-server.js';

export interface Hookline {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql */
  url: string;
  port: number;
  databaseUrl: string;
  database: Database;
  /** The key created on the very first start (no project yet), or null. Shown once. */
  initialApiKey: string | null;
  dispatcher: Dispatcher;
  /** What the scheduler runs; tests call them directly. */
  sweeps: {
    releaseExpiredLeases(): Promise<number>;
    webhookHealth: WebhookHealthSweep;
    retention: RetentionSweep;
  };
  health(): Promise<HealthReport>;
  /** deliveryUpdated subscriptions of this process that are live: every change committed from now on reaches them. */
  readonly liveDeliverySubscriptions: number;
  /** Stops gracefully: no new claims, attempts in flight finish or are handed back. Idempotent. */
  stop(): Promise<void>;
}

export interface HooklineOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Run no dispatcher and no scheduler: an API-only process (and tests that drive dispatch themselves). */
  withoutDispatcher?: boolean;
  /** Leave out the scheduler's clock, for tests that call the dispatcher and sweeps directly. */
  withoutScheduler?: boolean;
  workerId?: string;
}

export async function startHookline(options: HooklineOptions): Promise<Hookline> {
  const { config, logger } = options;
  const startedAt = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => logger.error({ err: error }, 'a shutdown step failed'));
    cleanups.length = 0;
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const { startEmbeddedDatabase } = await import('../persistence/embedded-database.js');
      const embedded = await startEmbeddedDatabase({
        dataDir: path.join(config.dataDir, 'postgres'),
        preferredPort: config.embeddedDatabasePort,
        log: (level, message, fields) => logger[level]({ ...fields, component: 'embedded-postgres' }, message),
      });
      cleanups.push(() => embedded.stop());
      databaseUrl = embedded.url;
      logger.info({ port: embedded.port, dataDir: path.join(config.dataDir, 'postgres') }, 'embedded PostgreSQL is up');
    }

    const database = await openDatabase(databaseUrl, logger);
    cleanups.push(() => database.close());

    const pubSub = createDeliveryPubSub();
    const listener = new NotificationListener(databaseUrl, logger);
    const dispatching = !options.withoutDispatcher;
    // Each notification carries up to ten changes. Subscribers get every one; a delivery that
    // became due (queued, or made due by a retry or replay) wakes the dispatcher.
    listener.on(deliveryChangedChannel, (payload) => {
      let dueWork = false;
      for (const change of JSON.parse(payload) as DeliveryChange[]) {
        pubSub.publish(topics.deliveryUpdated, change);
        if ((change.status === 'PENDING' || change.status === 'RETRYING') && change.nextAttemptAt !== null && Date.parse(String(change.nextAttemptAt)) <= Date.now() + 1000) {
          dueWork = true;
        }
      }
      if (dueWork && dispatching) dispatcher.poke();
    });
    // With nobody watching, statements that made a delivery due send an empty wake-up instead.
    listener.on(deliveryDueChannel, () => {
      if (dispatching) dispatcher.poke();
    });
    listener.on(webhookHealthChannel, (payload) => pubSub.publish(topics.webhookHealthChanged, JSON.parse(payload) as WebhookHealthNotice));

    const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const addressPolicy = new AddressPolicy(config.network);
    const sender: Sender = createHttpSender({
      maximumResponseBodyBytes: config.dispatcher.maximumResponseBodyBytes,
      maximumSocketsPerHost: config.dispatcher.perWebhookConcurrency,
      addressPolicy,
    });
    const dispatcher = new Dispatcher(database.pool, sender, logger.child({ component: 'dispatcher' }), {
      workerId,
      concurrency: config.dispatcher.concurrency,
      perWebhookConcurrency: config.dispatcher.perWebhookConcurrency,
      leaseMarginMs: config.dispatcher.leaseMarginMs,
      maximumResponseBodyBytes: config.dispatcher.maximumResponseBodyBytes,
      claimDb: database.claimPool,
    });
    if (dispatching) {
      // While the listener was away, wake-ups were missed: look for due work at once.
      listener.onReconnected = () => dispatcher.poke();
    }
    // A key revoked in any process closes the subscriptions opened with it here.
    let httpServer: RunningHttpServer | null = null;
    listener.on(apiKeyRevokedChannel, (apiKeyId) => httpServer?.closeSubscriptionsOfKey(apiKeyId));
    await listener.start();
    cleanups.push(() => listener.stop());

    const sweepLogger = logger.child({ component: 'sweeps' });
    const webhookHealth = new WebhookHealthSweep(database.pool, config.health, sweepLogger);
    const retention = new RetentionSweep(database.pool, config.retention, sweepLogger);
    const releaseLeases = async () => {
      const released = await releaseExpiredLeases(database.pool);
      if (released > 0) {
        logger.warn({ released }, 'handed back deliveries whose lease ran out');
        dispatcher.poke();
      }
      return released;
    };
    const scheduler = new Scheduler(logger.child({ component: 'scheduler' }));
    if (dispatching) {
      cleanups.push(async () => {
        await dispatcher.stop(config.dispatcher.shutdownGraceMs);
        sender.close();
      });
      if (!options.withoutScheduler) {
        scheduler.start([
          // Due retries have no NOTIFY to wake anyone: the tick finds them.
          { name: 'dispatch-due', expression: '* * * * * *', run: () => dispatcher.poke() },
          { name: 'release-expired-leases', expression: '*/5 * * * * *', run: releaseLeases },
          { name: 'webhook-health', expression: '*/15 * * * * *', run: () => webhookHealth.run() },
          { name: 'retention', expression: '0 */10 * * * *', run: () => retention.run() },
        ]);
        cleanups.push(() => scheduler.stop());
      }
      dispatcher.poke();
    }

    const health = async (): Promise<HealthReport> => {
      const checks: Record<string, string> = {};
      try {
        await Promise.race([
          database.pool.query('select 1'),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref()),
        ]);
        checks['database'] = 'ok';
      } catch (error) {
        checks['database'] = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
      }
      checks['notifications'] = listener.connected ? 'ok' : 'reconnecting';
      return { healthy: Object.values(checks).every((value) => value === 'ok'), checks };
    };

    const access = new AccessService(database.pool);
    const initialApiKey = await access.bootstrap(config.dataDir, logger);
    const contextDependencies = { orm: database.orm, pool: database.pool, logger, sender, addressPolicy, access, pubSub, watchDeliveryChanges: () => listener.watchDeliveryChanges(), limits: config.limits };
    const schema = await createSchema(pubSub);
    const server: RunningHttpServer = await startHttpServer(
      {
        schema,
        logger,
        health,
        authenticate: async (authorization) => {
          const token = bearerToken(authorization);
          if (!token) throw new UnauthenticatedError('send an API key: Authorization: Bearer <key> (graphql-ws: connectionParams.authorization)');
          if (config.adminToken && sameSecret(token, config.adminToken)) return { kind: 'admin' };
          const caller = await access.authenticate(token);
          if (!caller) throw new UnauthenticatedError('this API key is unknown or revoked');
          return caller;
        },
        createContext: (caller, contextOptions) => createContext(contextDependencies, caller, contextOptions),
        maximumBodyBytes: config.limits.maximumRequestBytes,
      },
      config.port,
      config.host,
    );
    // Stopped first: no new requests while the dispatcher drains.
    cleanups.push(() => server.close());
    httpServer = server;

    logger.info({ url: server.url, workerId, dispatching, startupMs: Date.now() - startedAt }, 'Hookline is ready');
    let stopping: Promise<void> | null = null;
    return {
      url: server.url,
      port: server.port,
      databaseUrl,
      database,
      initialApiKey,
      dispatcher,
      sweeps: { releaseExpiredLeases: releaseLeases, webhookHealth, retention },
      health,
      get liveDeliverySubscriptions() {
        return listener.deliveryWatchers;
      },
      stop: () => (stopping ??= runCleanups().then(() => logger.info('Hookline stopped'))),
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}
