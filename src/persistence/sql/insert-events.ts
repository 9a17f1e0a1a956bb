import type { Queryable } from '../database-pool.js';
import { deliveryChangesNotification } from './notification-channels.js';
import type { CheckedEventInput } from '../../domain/event-input.js';

export interface StoredEvent {
  id: string;
  projectId: string;
  type: string;
  channel: string | null;
  data: Record<string, unknown>;
  idempotencyKey: string | null;
  createdAt: Date;
}

export interface ActiveWebhookFilter {
  id: string;
  eventTypes: string[];
  channels: string[];
  statuses: string[];
  orderingKey: string | null;
}

function toStoredEvent(row: Record<string, any>): StoredEvent {
  return { id: row.id, projectId: row.project_id, type: row.type, channel: row.channel, data: row.data, idempotencyKey: row.idempotency_key, createdAt: row.created_at };
}

export async function loadActiveWebhookFilters(db: Queryable, projectId: string): Promise<ActiveWebhookFilter[]> {
  const result = await db.query({
    name: 'load-active-webhook-filters',
    text: 'select id, event_types, channels, statuses, ordering_key from webhook where project_id = $1 and active order by id',
    values: [projectId],
  });
  return result.rows.map((row) => ({ id: row.id, eventTypes: row.event_types, channels: row.channels, statuses: row.statuses, orderingKey: row.ordering_key }));
}

export interface NewDelivery {
  id: string;
  eventId: string;
  webhookId: string | null;
  eventType: string;
  /** Deliveries of one webhook with the same key go strictly one after another. */
  orderingKey: string | null;
  /** The millisecond in the id. */
  createdAt: Date;
}

export type NewEvent = CheckedEventInput & { id: string; createdAt: Date };

/**
 * Stores events with their deliveries, and announces the deliveries (PENDING), which wakes
 * every dispatcher, in ONE statement: atomic without a transaction of its own, and one round
 * trip. An event whose idempotency key is already stored is skipped (the unique index
 * decides, so two concurrent publishes of one key store one event), and so are its deliveries:
 * they join only the events this statement inserted.
 */
const insertEventsSql = `
with inserted as (
  insert into event (id, project_id, type, channel, data, idempotency_key, callback_url, callback_secret,
                     callback_body_format, callback_body_fields, created_at)
  select e.id, $2, e.type, e.channel, e.data, e.idempotency_key, e.callback_url, e.callback_secret,
         e.callback_body_format, e.callback_body_fields, e.created_at
  from json_to_recordset($1::json) as e(id uuid, type text, channel text, data json, idempotency_key text, callback_url text,
                                        callback_secret text, callback_body_format text, callback_body_fields jsonb,
                                        created_at timestamptz)
  on conflict (project_id, idempotency_key) where idempotency_key is not null do nothing
  returning *
), queued as (
  insert into delivery (id, project_id, event_id, webhook_id, event_type, ordering_key, status, next_attempt_at, created_at, updated_at)
  select d.id, $2, d.event_id, d.webhook_id, d.event_type, d.ordering_key, 'PENDING', now(), d.created_at, now()
  from jsonb_to_recordset($3::jsonb) as d(id uuid, event_id uuid, webhook_id uuid, event_type text, ordering_key text, created_at timestamptz)
  join inserted on inserted.id = d.event_id
  returning *
), ${deliveryChangesNotification('queued')}
select inserted.*, (select count(*) from notified) as notifications from inserted
`;

export async function insertEvents(db: Queryable, projectId: string, events: readonly NewEvent[], deliveries: readonly NewDelivery[]): Promise<StoredEvent[]> {
  const eventRows = events.map((event) => ({
    id: event.id,
    type: event.type,
    channel: event.channel,
    data: event.data,
    idempotency_key: event.idempotencyKey,
    callback_url: event.callbackUrl,
    callback_secret: event.callbackSecret,
    callback_body_format: event.callbackBodyFormat,
    callback_body_fields: event.callbackBodyFields,
    created_at: event.createdAt.toISOString(),
  }));
  const deliveryRows = deliveries.map((delivery) => ({
    id: delivery.id,
    event_id: delivery.eventId,
    webhook_id: delivery.webhookId,
    event_type: delivery.eventType,
    ordering_key: delivery.orderingKey,
    created_at: delivery.createdAt.toISOString(),
  }));
  const result = await db.query({ name: 'insert-events', text: insertEventsSql, values: [JSON.stringify(eventRows), projectId, JSON.stringify(deliveryRows)] });
  return result.rows.map(toStoredEvent);
}

export async function findEventsByIdempotencyKeys(db: Queryable, projectId: string, keys: readonly string[]): Promise<StoredEvent[]> {
  if (keys.length === 0) return [];
  const result = await db.query('select * from event where project_id = $1 and idempotency_key = any($2::text[])', [projectId, keys]);
  return result.rows.map(toStoredEvent);
}
