/** Reading events, deliveries and attempts, and putting a delivery back in the queue. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { DeliveryStatus } from '../domain/delivery-status.js';
import { Attempt, Delivery, Event, type AttemptEntity, type DeliveryEntity, type EventEntity } from '../persistence/entities.js';
import { deliveryChangesNotification } from '../persistence/sql/notification-channels.js';
import { decodeCursor, firstUuidAt, isUuid, pageSize, toPage, type Page, type PageRequest } from './pagination.js';

export interface DeliveryFilter {
  webhookId?: string | null;
  eventId?: string | null;
  eventType?: string | null;
  status?: DeliveryStatus | null;
  statuses?: DeliveryStatus[] | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

export interface ReplayFilter {
  webhookId?: string | null;
  eventType?: string | null;
  /** Default: FAILED, the dead-letter queue. Only finished deliveries can be replayed. */
  statuses?: DeliveryStatus[] | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

const replayableStatuses: readonly DeliveryStatus[] = [DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.SUCCEEDED];
const replayBatchSize = 1000;

export interface AttemptFilter {
  deliveryId?: string | null;
  webhookId?: string | null;
  eventId?: string | null;
  success?: boolean | null;
  startedAfter?: Date | null;
  startedBefore?: Date | null;
}

const ownedTables = { Webhook: 'webhook', Event: 'event', Delivery: 'delivery' } as const;

function timeRange(after: Date | null | undefined, before: Date | null | undefined): Record<string, Date> | undefined {
  if (!after && !before) return undefined;
  const range: Record<string, Date> = {};
  if (after) range['$gte'] = after;
  if (before) range['$lt'] = before;
  return range;
}

/**
 * A time range also bounds the ids, so the query walks the id index instead of filtering a
 * whole project's rows. A delivery's createdAt is the millisecond in its id, so for
 * deliveries the id range is the time range, exactly. An attempt's id is made when it is
 * recorded, after its request (up to the longest timeout, 60 s, after its start): attempts get
 * a margin above and keep the exact time condition.
 */
const attemptIdMarginMs = 2 * 60 * 1000;

function idRange(after: Date | null | undefined, before: Date | null | undefined, marginAfterMs = 0): Record<string, string> {
  const range: Record<string, string> = {};
  if (after) range['$gte'] = firstUuidAt(after);
  if (before) range['$lt'] = firstUuidAt(new Date(before.getTime() + marginAfterMs));
  return range;
}

function idConditions(range: Record<string, string>, afterCursor: string | null | undefined): Record<string, string> | undefined {
  const conditions = { ...range };
  if (afterCursor) {
    const cursorId = decodeCursor(afterCursor);
    conditions['$lt'] = conditions['$lt'] && conditions['$lt'] < cursorId ? conditions['$lt'] : cursorId;
  }
  return Object.keys(conditions).length ? conditions : undefined;
}

export class DeliveryService {
  constructor(private readonly em: EntityManager, private readonly projectId: string) {}

  /**
   * An id a filter names must be this project's: another project's (or an unknown) id is
   * NOT_FOUND, exactly as when it is asked for directly, so ids never leak across projects.
   */
  private async assertOwned(kind: keyof typeof ownedTables, id: string | null | undefined): Promise<void> {
    if (!id) return;
    const rows = isUuid(id) ? await this.em.getConnection().execute(`select 1 from ${ownedTables[kind]} where id = ? and project_id = ?`, [id, this.projectId]) : [];
    if (rows.length === 0) throw new NotFoundError(kind, id);
  }

  async findEvent(id: string): Promise<EventEntity | null> {
    return isUuid(id) ? this.em.findOne(Event, { id, projectId: this.projectId }) : null;
  }

  async find(id: string): Promise<DeliveryEntity | null> {
    return isUuid(id) ? this.em.findOne(Delivery, { id, projectId: this.projectId }) : null;
  }

  async list(filter: DeliveryFilter = {}, request: PageRequest = {}): Promise<Page<DeliveryEntity>> {
    const size = pageSize(request.first);
    await this.assertOwned('Webhook', filter.webhookId);
    await this.assertOwned('Event', filter.eventId);
    const where: Record<string, unknown> = { projectId: this.projectId };
    if (filter.webhookId) where['webhookId'] = filter.webhookId;
    if (filter.eventId) where['eventId'] = filter.eventId;
    if (filter.eventType) where['eventType'] = filter.eventType;
    const statuses = [...(filter.statuses ?? []), ...(filter.status ? [filter.status] : [])];
    if (statuses.length) where['status'] = { $in: statuses };
    // The creation time is in the id: the id range alone is the time range.
    const ids = idConditions(idRange(filter.createdAfter, filter.createdBefore), request.after);
    if (ids) where['id'] = ids;
    const rows = await this.em.find(Delivery, where, { orderBy: { id: 'desc' }, limit: size + 1 });
    return toPage(rows, size);
  }

  async listAttempts(filter: AttemptFilter = {}, request: PageRequest = {}): Promise<Page<AttemptEntity>> {
    const size = pageSize(request.first);
    await this.assertOwned('Delivery', filter.deliveryId);
    await this.assertOwned('Webhook', filter.webhookId);
    await this.assertOwned('Event', filter.eventId);
    const where: Record<string, unknown> = { projectId: this.projectId };
    if (filter.deliveryId) where['deliveryId'] = filter.deliveryId;
    if (filter.webhookId) where['webhookId'] = filter.webhookId;
    if (filter.eventId) where['eventId'] = filter.eventId;
    if (filter.success !== null && filter.success !== undefined) where['success'] = filter.success;
    const started = timeRange(filter.startedAfter, filter.startedBefore);
    if (started) where['startedAt'] = started;
    const ids = idConditions(idRange(filter.startedAfter, filter.startedBefore, attemptIdMarginMs), request.after);
    if (ids) where['id'] = ids;
    const rows = await this.em.find(Attempt, where, { orderBy: { id: 'desc' }, limit: size + 1 });
    return toPage(rows, size);
  }

  /**
   * Queues every finished delivery the filter selects again, due now, and returns how many.
   * Works in batches of a thousand rows, each its own short statement.
   */
  async replay(filter: ReplayFilter): Promise<number> {
    await this.assertOwned('Webhook', filter.webhookId);
    const statuses = filter.statuses?.length ? filter.statuses : [DeliveryStatus.FAILED];
    const refused = statuses.filter((status) => !replayableStatuses.includes(status));
    if (refused.length) {
      throw new ValidationError(`only ${replayableStatuses.join(', ')} deliveries can be replayed, not ${refused.join(', ')}`, { field: 'filter.statuses' });
    }
    const conditions = ['project_id = ?', 'status in (?)'];
    const parameters: unknown[] = [this.projectId, statuses];
    if (filter.webhookId) (conditions.push('webhook_id = ?'), parameters.push(filter.webhookId));
    if (filter.eventType) (conditions.push('event_type = ?'), parameters.push(filter.eventType));
    if (filter.createdAfter) (conditions.push('created_at >= ?'), parameters.push(filter.createdAfter));
    if (filter.createdBefore) (conditions.push('created_at < ?'), parameters.push(filter.createdBefore));
    let queued = 0;
    for (;;) {
      const rows = await this.em.getConnection().execute(
        `with chosen as (
           select id from delivery where ${conditions.join(' and ')}
           order by id limit ${replayBatchSize} for update skip locked),
         replayed as (
           update delivery d set status = case when d.attempt_count > 0 then 'RETRYING' else 'PENDING' end,
             next_attempt_at = now(), updated_at = now()
           from chosen where d.id = chosen.id
           returning d.*),
         ${deliveryChangesNotification('replayed')}
         select r.id, (select count(*) from notified) from replayed r`,
        parameters,
      );
      queued += rows.length;
      if (rows.length < replayBatchSize) return queued;
    }
  }

  /** Cancels a queued or retrying delivery. One being sent, or already finished, is refused. */
  async cancel(id: string): Promise<DeliveryEntity> {
    const delivery = await this.find(id);
    if (!delivery) throw new NotFoundError('Delivery', id);
    const rows = await this.em.getConnection().execute(
      `with cancelled as (
         update delivery set status = 'CANCELLED', next_attempt_at = null, updated_at = now()
         where id = ? and project_id = ? and status in ('PENDING', 'RETRYING')
         returning *),
       ${deliveryChangesNotification('cancelled')}
       select c.*, (select count(*) from notified) as notifications from cancelled c`,
      [id, this.projectId],
    );
    if (rows.length === 0) {
      const current = await this.em.fork().findOne(Delivery, { id });
      throw new ConflictError(`the delivery is ${current?.status ?? 'gone'}: only PENDING or RETRYING deliveries can be cancelled`, { id, status: current?.status });
    }
    const { notifications: _notifications, ...row } = rows[0] as Record<string, unknown>;
    return this.em.fork().map(Delivery, row);
  }

  /**
   * Makes a delivery due now. A FAILED or CANCELLED one gets one more attempt (and the rest
   * of its schedule, if any is left); a RETRYING one stops waiting. One being sent is refused.
   */
  async retry(id: string): Promise<DeliveryEntity> {
    const delivery = await this.find(id);
    if (!delivery) throw new NotFoundError('Delivery', id);
    if (delivery.status === DeliveryStatus.SENDING) throw new ConflictError('the delivery is being sent right now; retry it once this attempt is recorded', { id });
    const rows = await this.em.getConnection().execute(
      `with retried as (
         update delivery
         set status = case when attempt_count > 0 then 'RETRYING' else 'PENDING' end,
             next_attempt_at = now(), updated_at = now()
         where id = ? and project_id = ? and status <> 'SENDING'
         returning *),
       ${deliveryChangesNotification('retried')}
       select r.*, (select count(*) from notified) as notifications from retried r`,
      [id, this.projectId],
    );
    if (rows.length === 0) throw new ConflictError('the delivery is being sent right now; retry it once this attempt is recorded', { id });
    // The row as the update left it: a dispatcher woken by this commit may already be moving it on.
    const { notifications: _notifications, ...row } = rows[0] as Record<string, unknown>;
    return this.em.fork().map(Delivery, row);
  }
}
