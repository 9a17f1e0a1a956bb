/** The environment, parsed once into a typed, frozen configuration. */
import path from 'node:path';

import { parseAllowPrivateNetworks } from './delivery/address-policy.js';

export interface Config {
  port: number;
  host: string;
  /** null: start the embedded PostgreSQL under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  embeddedDatabasePort: number;
  logLevel: string;
  /** Bearer token that may create projects; null: project creation is off. */
  adminToken: string | null;
  network: {
    /** true: send anywhere; otherwise the CIDRs allowed besides public addresses. */
    allowPrivateNetworks: true | readonly string[];
  };
  dispatcher: {
    /** Requests in flight at once, over all webhooks, in this process. */
    concurrency: number;
    /** Requests in flight at once to one webhook, so a slow one cannot take every slot. */
    perWebhookConcurrency: number;
    /** How long a claim is held beyond the webhook's own timeout before the sweep hands it back. */
    leaseMarginMs: number;
    /** On shutdown, how long attempts in flight may still take before they are handed back. */
    shutdownGraceMs: number;
    /** Largest response body kept with an attempt. */
    maximumResponseBodyBytes: number;
  };
  health: {
    /** A webhook failing without a single success for this long is stopped (webhook.disabled). */
    disableAfterMs: number;
    /** After this many failures in a row the project is told once (webhook.failing). */
    failingAfterFailures: number;
  };
  limits: {
    /** The largest `data` an event may carry, as JSON. */
    maximumEventDataBytes: number;
    /** The largest GraphQL request body (HTTP) or message (WebSocket). */
    maximumRequestBytes: number;
  };
  retention: {
    /** Events (with their deliveries and attempts) older than this are purged. */
    maximumAgeMs: number;
    /** Rows deleted per statement, so the sweep never holds locks the dispatcher waits on for long. */
    batchSize: number;
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be a whole number of at least ${minimum}, not "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const dataDir = path.resolve(env['HOOKLINE_DATA_DIR'] || '.hookline');
  return Object.freeze({
    port: integer(env, 'PORT', 4000),
    host: env['HOST'] || '0.0.0.0',
    databaseUrl: env['DATABASE_URL'] || null,
    dataDir,
    embeddedDatabasePort: integer(env, 'HOOKLINE_EMBEDDED_DB_PORT', 54329, 1),
    logLevel: env['LOG_LEVEL'] || 'info',
    adminToken: env['HOOKLINE_ADMIN_TOKEN'] || null,
    network: Object.freeze({ allowPrivateNetworks: parseAllowPrivateNetworks(env['HOOKLINE_ALLOW_PRIVATE_NETWORKS']) }),
    dispatcher: Object.freeze({
      concurrency: integer(env, 'HOOKLINE_CONCURRENCY', 128, 1),
      perWebhookConcurrency: integer(env, 'HOOKLINE_PER_WEBHOOK_CONCURRENCY', 32, 1),
      leaseMarginMs: integer(env, 'HOOKLINE_LEASE_MARGIN_MS', 30_000, 1000),
      shutdownGraceMs: integer(env, 'HOOKLINE_SHUTDOWN_GRACE_MS', 10_000, 0),
      maximumResponseBodyBytes: integer(env, 'HOOKLINE_MAX_RESPONSE_BODY_BYTES', 64 * 1024, 0),
    }),
    health: Object.freeze({
      disableAfterMs: integer(env, 'HOOKLINE_DISABLE_AFTER_HOURS', 5 * 24, 1) * 3600 * 1000,
      failingAfterFailures: integer(env, 'HOOKLINE_FAILING_AFTER_FAILURES', 5, 1),
    }),
    limits: Object.freeze({
      maximumEventDataBytes: integer(env, 'HOOKLINE_MAX_EVENT_DATA_BYTES', 256 * 1024, 1),
      maximumRequestBytes: integer(env, 'HOOKLINE_MAX_REQUEST_BYTES', 5 * 1024 * 1024, 1024),
    }),
    retention: Object.freeze({
      maximumAgeMs: integer(env, 'HOOKLINE_RETENTION_DAYS', 30, 1) * 24 * 3600 * 1000,
      batchSize: integer(env, 'HOOKLINE_RETENTION_BATCH_SIZE', 500, 1),
    }),
  });
}
