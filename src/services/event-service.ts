/**
 * Publishing: an event and its deliveries (one per matching active webhook, or one to the
 * event's callback URL) are stored in one statement, which wakes the dispatchers at commit.
 */
import type pg from 'pg';
import type { AddressPolicy } from '../delivery/address-policy.js';
import { newId } from '../domain/ids.js';
import { ValidationError } from '../domain/errors.js';
import { checkEventInput, maximumEventsPerBatch, type CheckedEventInput, type PublishEventInput } from '../domain/event-input.js';
import { webhookWantsEvent } from '../domain/event-matching.js';
import { resolvePath, valueAsText } from '../domain/event-path.js';
import type { Queryable } from '../persistence/database-pool.js';
import {
  findEventsByIdempotencyKeys,
  insertEvents,
  loadActiveWebhookFilters,
  type NewDelivery,
  type NewEvent,
  type StoredEvent,
} from '../persistence/sql/insert-events.js';
import { uuidTime } from './pagination.js';

/** The value of a webhook's ordering key for an event; null (unordered) when the path does not resolve. */
function orderingValue(path: string | null, event: NewEvent): string | null {
  if (path === null) return null;
  const value = resolvePath({ id: event.id, type: event.type, channel: event.channel, createdAt: event.createdAt.toISOString(), data: event.data }, path);
  return value === undefined || value === null ? null : valueAsText(value);
}

/**
 * A delivery's creation time is the millisecond in its id, exactly: a time range over
 * deliveries is then an id range, which the id indexes answer without reading other rows.
 */
function newDelivery(fields: Omit<NewDelivery, 'id' | 'createdAt'>): NewDelivery {
  const id = newId();
  return { id, createdAt: uuidTime(id), ...fields };
}

/**
 * Stores events and their deliveries (one per matching active webhook, or one to the event's
 * callback URL) in one statement; inside a caller's transaction too, so other use cases (the
 * health sweep's operational events) publish atomically with their own changes. Returns the
 * stored event for each candidate, in order: an idempotency key seen before returns the
 * earlier event, and nothing new is delivered for it.
 */
export async function storeEvents(db: Queryable, projectId: string, candidates: readonly (CheckedEventInput & { id: string })[]): Promise<StoredEvent[]> {
  const createdAt = new Date();
  const events: NewEvent[] = candidates.map((candidate) => ({ ...candidate, createdAt }));
  const webhooks = events.some((event) => !event.callbackUrl) ? await loadActiveWebhookFilters(db, projectId) : [];
  const deliveries: NewDelivery[] = [];
  for (const event of events) {
    if (event.callbackUrl) {
      deliveries.push(newDelivery({ eventId: event.id, webhookId: null, eventType: event.type, orderingKey: null }));
      continue;
    }
    for (const webhook of webhooks) {
      if (!webhookWantsEvent(webhook, event)) continue;
      deliveries.push(newDelivery({ eventId: event.id, webhookId: webhook.id, eventType: event.type, orderingKey: orderingValue(webhook.orderingKey, event) }));
    }
  }
  const inserted = await insertEvents(db, projectId, events, deliveries);
  const byId = new Map<string, StoredEvent>(inserted.map((event) => [event.id, event]));
  const missingKeys = candidates.filter((c) => !byId.has(c.id) && c.idempotencyKey !== null).map((c) => c.idempotencyKey!);
  const byKey = new Map((await findEventsByIdempotencyKeys(db, projectId, missingKeys)).map((event) => [event.idempotencyKey!, event]));
  return candidates.map((candidate) => byId.get(candidate.id) ?? byKey.get(candidate.idempotencyKey!)!);
}

export class EventService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly projectId: string,
    private readonly maximumDataBytes: number,
    private readonly addressPolicy: AddressPolicy,
  ) {}

  async publish(input: PublishEventInput): Promise<StoredEvent> {
    const [event] = await this.publishMany([input]);
    return event!;
  }

  /** Publishes a batch; the result follows the order of `inputs`. All or nothing. */
  async publishMany(inputs: readonly PublishEventInput[]): Promise<StoredEvent[]> {
    if (inputs.length > maximumEventsPerBatch) {
      throw new ValidationError(`publishEvents takes at most ${maximumEventsPerBatch} events at once`, { field: 'inputs' });
    }
    const checked = inputs.map((input, index) => checkEventInput(input, inputs.length === 1 ? 'input' : `inputs[${index}]`, this.maximumDataBytes));
    if (checked.length === 0) return [];
    for (const [index, event] of checked.entries()) {
      if (event.callbackUrl) await this.addressPolicy.assertAllowedUrl(event.callbackUrl, checked.length === 1 ? 'input.callbackUrl' : `inputs[${index}].callbackUrl`);
    }

    // A key repeated inside one batch is one event, like a key repeated across calls.
    const firstWithKey = new Map<string, CheckedEventInput & { id: string }>();
    const candidates: (CheckedEventInput & { id: string })[] = [];
    const slotOf = checked.map((event) => {
      if (event.idempotencyKey !== null) {
        const earlier = firstWithKey.get(event.idempotencyKey);
        if (earlier) return earlier;
      }
      const candidate = { ...event, id: newId() };
      if (event.idempotencyKey !== null) firstWithKey.set(event.idempotencyKey, candidate);
      candidates.push(candidate);
      return candidate;
    });

    const stored = await storeEvents(this.pool, this.projectId, candidates);
    const storedByCandidate = new Map(candidates.map((candidate, index) => [candidate, stored[index]!]));
    return slotOf.map((candidate) => storedByCandidate.get(candidate)!);
  }
}
