import type { Queryable } from '../database-pool.js';
import { deliveryChangesNotification } from './notification-channels.js';

/**
 * Deliveries go back to the queue, due now, as they were before the claim: PENDING if never
 * attempted, RETRYING otherwise. Used on shutdown for claims whose send was not finished.
 */
const handBackSql = `
with released as (
  update delivery
  set status = case when attempt_count > 0 then 'RETRYING' else 'PENDING' end,
      next_attempt_at = now(), locked_by = null, locked_until = null, updated_at = now()
  -- A claim holds a lease: the lease index finds this process's claims without reading the table.
  where locked_until is not null and locked_by = $1 and status = 'SENDING' and ($2::uuid[] is null or id = any($2::uuid[]))
  returning *
), ${deliveryChangesNotification('released')}
select r.id, (select count(*) from notified) from released r
`;

export async function handBackDeliveries(db: Queryable, workerId: string, deliveryIds: readonly string[] | null): Promise<number> {
  const result = await db.query(handBackSql, [workerId, deliveryIds]);
  return result.rowCount ?? 0;
}

/**
 * The lease sweep: claims whose lease ran out (their process died or hung) go back to the
 * queue. The lease outlives the webhook's timeout by a margin, so a live process has
 * finished or abandoned its request by then.
 */
const releaseExpiredSql = `
with expired as (
  select id from delivery
  where status = 'SENDING' and locked_until < now()
  order by locked_until
  limit $1
  for update skip locked
), released as (
  update delivery d
  set status = case when d.attempt_count > 0 then 'RETRYING' else 'PENDING' end,
      next_attempt_at = now(), locked_by = null, locked_until = null, updated_at = now()
  from expired
  where d.id = expired.id
  returning d.*
), ${deliveryChangesNotification('released')}
select r.id, (select count(*) from notified) from released r
`;

export async function releaseExpiredLeases(db: Queryable, limit = 500): Promise<number> {
  const result = await db.query(releaseExpiredSql, [limit]);
  return result.rowCount ?? 0;
}

/**
 * A claimed delivery that cannot be sent now: its webhook was stopped (it waits, with no due
 * time, until the webhook starts again) or is gone with no callback URL (it is cancelled).
 */
const setAsideSql = `
with changed as (
  update delivery
  set status = case when $3 = 'CANCELLED' then 'CANCELLED'
                    when attempt_count > 0 then 'RETRYING' else 'PENDING' end,
      next_attempt_at = null, locked_by = null, locked_until = null, updated_at = now()
  where id = $1 and locked_by = $2 and status = 'SENDING'
  returning *
), ${deliveryChangesNotification('changed')}
select c.id, (select count(*) from notified) from changed c
`;

export async function setAsideDelivery(db: Queryable, workerId: string, deliveryId: string, how: 'PAUSE' | 'CANCELLED'): Promise<void> {
  await db.query(setAsideSql, [deliveryId, workerId, how]);
}
