/**
 * Batched loading for field resolvers (a page of deliveries asks for its events in one query).
 * Each batch reads through a fresh EntityManager fork, so a long-lived subscription context
 * neither grows an identity map nor serves stale rows; subscriptions also turn caching off.
 */
import DataLoader from 'dataloader';
import type { Queryable } from '../persistence/database-pool.js';
import { loadWebhookAttemptStatistics, type WebhookAttemptStatistics } from '../persistence/sql/webhook-attempt-statistics.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Attempt, Delivery, Event, Webhook, type AttemptEntity, type DeliveryEntity, type EventEntity, type WebhookEntity } from '../persistence/entities.js';

export interface Loaders {
  webhookStatistics: DataLoader<string, WebhookAttemptStatistics>;
  event: DataLoader<string, EventEntity | null>;
  webhook: DataLoader<string, WebhookEntity | null>;
  attemptsOfDelivery: DataLoader<string, AttemptEntity[]>;
  deliveriesOfEvent: DataLoader<string, DeliveryEntity[]>;
}

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => found.get(id) ?? null);
}

function groupBy<T>(rows: T[], ids: readonly string[], key: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const row of rows) groups.get(key(row))?.push(row);
  return ids.map((id) => groups.get(id)!);
}

export function createLoaders(em: EntityManager, pool: Queryable, projectId: string, options: { cache: boolean }): Loaders {
  const fresh = () => em.fork({ clear: true });
  return {
    webhookStatistics: new DataLoader(async (ids) => {
      const statistics = await loadWebhookAttemptStatistics(pool, ids);
      return ids.map((id) => statistics.get(id)!);
    }, options),
    event: new DataLoader(async (ids) => byId(await fresh().find(Event, { id: { $in: [...ids] }, projectId }), ids), options),
    webhook: new DataLoader(async (ids) => byId(await fresh().find(Webhook, { id: { $in: [...ids] }, projectId }), ids), options),
    attemptsOfDelivery: new DataLoader(
      async (ids) => groupBy(await fresh().find(Attempt, { deliveryId: { $in: [...ids] }, projectId }, { orderBy: { number: 'asc', id: 'asc' } }), ids, (row) => row.deliveryId),
      options,
    ),
    deliveriesOfEvent: new DataLoader(
      async (ids) => groupBy(await fresh().find(Delivery, { eventId: { $in: [...ids] }, projectId }, { orderBy: { id: 'asc' } }), ids, (row) => row.eventId),
      options,
    ),
  };
}
