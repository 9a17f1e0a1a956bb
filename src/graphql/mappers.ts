/** Entities and stored rows → the objects the schema shows. Secrets are masked here, in one place. */
import { maskSecret } from '../domain/request-builder.js';
import { defaultRetryScheduleSeconds } from '../domain/retry-policy.js';
import { secretPrefix } from '../domain/signing.js';
import type { AttemptEntity, DeliveryEntity, EventEntity, WebhookEntity } from '../persistence/entities.js';
import type { StoredEvent } from '../persistence/sql/insert-events.js';
import { encodeCursor, type Page } from '../services/pagination.js';
import type { Connection } from './types/connection.js';
import { AttemptObject, DeliveryObject, EventObject } from './types/delivery.type.js';
import { KeyValue, WebhookAuth, WebhookObject } from './types/webhook.type.js';
import type { KeyValue as DomainKeyValue } from '../domain/webhook-config.js';

function authOf(webhook: WebhookEntity): WebhookAuth {
  const auth: WebhookAuth = Object.assign(new WebhookAuth(), { type: webhook.auth.type as string, token: null, username: null, password: null, name: null, value: null, in: null });
  switch (webhook.auth.type) {
    case 'BEARER':
      auth.token = maskSecret(webhook.auth.token);
      break;
    case 'BASIC':
      auth.username = webhook.auth.username;
      auth.password = maskSecret(webhook.auth.password);
      break;
    case 'API_KEY':
      auth.name = webhook.auth.name;
      auth.value = maskSecret(webhook.auth.value);
      auth.in = webhook.auth.in;
      break;
  }
  return auth;
}

function keyValuesOf(list: readonly DomainKeyValue[]): KeyValue[] {
  return list.map((entry) => Object.assign(new KeyValue(), { key: entry.key, type: entry.type, secret: entry.secret ?? false, value: entry.secret ? maskSecret(entry.value) : entry.value }));
}

export function toWebhookObject(webhook: WebhookEntity, options: { revealSecret?: boolean } = {}): WebhookObject {
  return Object.assign(new WebhookObject(), {
    id: webhook.id,
    name: webhook.name,
    url: webhook.url,
    method: webhook.method,
    eventTypes: webhook.eventTypes,
    channels: webhook.channels,
    statuses: webhook.statuses,
    queryParams: keyValuesOf(webhook.queryParams),
    headers: keyValuesOf(webhook.headers),
    auth: authOf(webhook),
    bodyFormat: webhook.bodyFormat,
    bodyFields: webhook.bodyFields && keyValuesOf(webhook.bodyFields),
    timeoutMs: webhook.timeoutMs,
    retryScheduleSeconds: webhook.retryScheduleSeconds,
    effectiveRetryScheduleSeconds: webhook.retryScheduleSeconds ?? [...defaultRetryScheduleSeconds],
    active: webhook.active,
    orderingKey: webhook.orderingKey,
    secret: options.revealSecret ? webhook.secret : `${secretPrefix}${maskSecret(webhook.secret.slice(secretPrefix.length))}`,
    previousSecretExpiresAt: webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > new Date() ? webhook.previousSecretExpiresAt : null,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  });
}

export function toEventObject(event: EventEntity | StoredEvent): EventObject {
  return Object.assign(new EventObject(), {
    id: event.id,
    type: event.type,
    channel: event.channel,
    data: event.data,
    idempotencyKey: event.idempotencyKey,
    createdAt: event.createdAt,
  });
}

/** Also used for the NOTIFY payloads of live updates, whose dates arrive as strings. */
export interface DeliveryFields {
  id: string;
  eventId: string;
  webhookId: string | null;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: Date | string | null;
  lastAttemptAt: Date | string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
}

const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));
const asOptionalDate = (value: Date | string | null) => (value === null ? null : asDate(value));

export function toDeliveryObject(delivery: DeliveryFields | DeliveryEntity): DeliveryObject {
  return Object.assign(new DeliveryObject(), {
    id: delivery.id,
    eventId: delivery.eventId,
    webhookId: delivery.webhookId,
    eventType: delivery.eventType,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: asOptionalDate(delivery.nextAttemptAt),
    lastAttemptAt: asOptionalDate(delivery.lastAttemptAt),
    createdAt: asDate(delivery.createdAt),
    updatedAt: asDate(delivery.updatedAt),
  });
}

export function toAttemptObject(attempt: AttemptEntity): AttemptObject {
  const { id, deliveryId, webhookId, eventId, number, startedAt, durationMs, requestMethod, requestUrl, requestHeaders, requestBody, responseStatus, responseHeaders, responseBody, error, success } = attempt;
  return Object.assign(new AttemptObject(), {
    id, deliveryId, webhookId, eventId, number, startedAt, durationMs, requestMethod, requestUrl, requestHeaders, requestBody, responseStatus, responseHeaders, responseBody, error, success,
  });
}

export function toConnection<T extends { id: string }, N>(page: Page<T>, map: (item: T) => N): Connection<N> {
  const nodes = page.items.map(map);
  return {
    edges: page.items.map((item, index) => ({ cursor: encodeCursor(item.id), node: nodes[index]! })),
    nodes,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}
