/**
 * MikroORM entities for the API side (queries, webhook configuration). The dispatcher's hot
 * path does not go through them: it uses the batched SQL in ./sql. Entities are not GraphQL
 * types: graphql/mappers.ts turns them into what the schema shows.
 */
import { EntitySchema, OptionalProps } from '@mikro-orm/core';
import type { DeliveryStatus } from '../domain/delivery-status.js';
import type { BodyFormat, KeyValue } from '../domain/webhook-config.js';
import type { WebhookSettings } from '../domain/webhook-settings.js';

export interface ProjectEntity {
  [OptionalProps]?: 'createdAt';
  id: string;
  name: string;
  createdAt: Date;
}

/** A webhook row: its settings (as the domain checks them), signing secrets and health. */
export interface WebhookEntity extends WebhookSettings {
  [OptionalProps]?:
    | 'createdAt'
    | 'updatedAt'
    | 'previousSecret'
    | 'previousSecretExpiresAt'
    | 'orderingKey'
    | 'consecutiveFailures'
    | 'failingSince'
    | 'failingNotifiedAt'
    | 'disabledAt'
    | 'disabledReason';
  id: string;
  projectId: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  consecutiveFailures: number;
  /** The first failure since the last success, while failing. */
  failingSince: Date | null;
  /** When the project was told (webhook.failing) about the current failure streak. */
  failingNotifiedAt: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EventEntity {
  [OptionalProps]?: 'createdAt';
  id: string;
  projectId: string;
  type: string;
  channel: string | null;
  data: Record<string, unknown>;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  callbackSecret: string | null;
  callbackBodyFormat: BodyFormat | null;
  callbackBodyFields: KeyValue[] | null;
  createdAt: Date;
}

export interface DeliveryEntity {
  id: string;
  projectId: string;
  eventId: string;
  webhookId: string | null;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastAttemptAt: Date | null;
  orderingKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttemptEntity {
  id: string;
  projectId: string;
  deliveryId: string;
  webhookId: string | null;
  eventId: string;
  number: number;
  startedAt: Date;
  durationMs: number | null;
  requestMethod: string;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  success: boolean;
  workerId: string | null;
  createdAt: Date;
}

const uuid = { type: 'uuid', primary: true } as const;
const timestamp = { type: 'Date', columnType: 'timestamptz' } as const;
const optionalTimestamp = { ...timestamp, nullable: true } as const;
const textArray = { type: 'string[]', columnType: 'text[]' } as const;

export const Project = new EntitySchema<ProjectEntity>({
  name: 'Project',
  tableName: 'project',
  properties: {
    id: uuid,
    name: { type: 'text' },
    createdAt: { ...timestamp, defaultRaw: 'now()' },
  },
});

export const Webhook = new EntitySchema<WebhookEntity>({
  name: 'Webhook',
  tableName: 'webhook',
  properties: {
    id: uuid,
    projectId: { type: 'uuid' },
    name: { type: 'text' },
    url: { type: 'text' },
    method: { type: 'text' },
    eventTypes: textArray,
    channels: textArray,
    statuses: textArray,
    queryParams: { type: 'json' },
    headers: { type: 'json' },
    auth: { type: 'json' },
    bodyFormat: { type: 'text' },
    bodyFields: { type: 'json', nullable: true },
    timeoutMs: { type: 'integer' },
    retryScheduleSeconds: { type: 'json', nullable: true },
    active: { type: 'boolean' },
    secret: { type: 'text' },
    previousSecret: { type: 'text', nullable: true },
    previousSecretExpiresAt: optionalTimestamp,
    orderingKey: { type: 'text', nullable: true },
    consecutiveFailures: { type: 'integer', default: 0 },
    failingSince: optionalTimestamp,
    failingNotifiedAt: optionalTimestamp,
    disabledAt: optionalTimestamp,
    disabledReason: { type: 'text', nullable: true },
    createdAt: { ...timestamp, defaultRaw: 'now()' },
    updatedAt: { ...timestamp, defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});

export const Event = new EntitySchema<EventEntity>({
  name: 'Event',
  tableName: 'event',
  properties: {
    id: uuid,
    projectId: { type: 'uuid' },
    type: { type: 'text' },
    channel: { type: 'text', nullable: true },
    data: { type: 'json' },
    idempotencyKey: { type: 'text', nullable: true },
    callbackUrl: { type: 'text', nullable: true },
    callbackSecret: { type: 'text', nullable: true },
    callbackBodyFormat: { type: 'text', nullable: true },
    callbackBodyFields: { type: 'json', nullable: true },
    createdAt: { ...timestamp, defaultRaw: 'now()' },
  },
});

export const Delivery = new EntitySchema<DeliveryEntity>({
  name: 'Delivery',
  tableName: 'delivery',
  properties: {
    id: uuid,
    projectId: { type: 'uuid' },
    eventId: { type: 'uuid' },
    webhookId: { type: 'uuid', nullable: true },
    eventType: { type: 'text' },
    status: { type: 'text' },
    attemptCount: { type: 'integer' },
    nextAttemptAt: optionalTimestamp,
    lockedBy: { type: 'text', nullable: true },
    lockedUntil: optionalTimestamp,
    lastAttemptAt: optionalTimestamp,
    orderingKey: { type: 'text', nullable: true },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
});

export const Attempt = new EntitySchema<AttemptEntity>({
  name: 'Attempt',
  tableName: 'attempt',
  properties: {
    id: uuid,
    projectId: { type: 'uuid' },
    deliveryId: { type: 'uuid' },
    webhookId: { type: 'uuid', nullable: true },
    eventId: { type: 'uuid' },
    number: { type: 'integer' },
    startedAt: timestamp,
    durationMs: { type: 'integer', nullable: true },
    requestMethod: { type: 'text' },
    requestUrl: { type: 'text' },
    requestHeaders: { type: 'json' },
    requestBody: { type: 'text', nullable: true },
    responseStatus: { type: 'integer', nullable: true },
    responseHeaders: { type: 'json', nullable: true },
    responseBody: { type: 'text', nullable: true },
    error: { type: 'text', nullable: true },
    success: { type: 'boolean' },
    workerId: { type: 'text', nullable: true },
    createdAt: timestamp,
  },
});

export interface ApiKeyEntity {
  id: string;
  projectId: string;
  name: string | null;
  prefix: string;
  keyHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export const ApiKey = new EntitySchema<ApiKeyEntity>({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: uuid,
    projectId: { type: 'uuid' },
    name: { type: 'text', nullable: true },
    prefix: { type: 'text' },
    keyHash: { type: 'text' },
    createdAt: timestamp,
    lastUsedAt: optionalTimestamp,
    revokedAt: optionalTimestamp,
  },
});

export const entities = [Project, Webhook, Event, Delivery, Attempt, ApiKey];
