import type { Queryable } from '../database-pool.js';

/**
 * Deletes up to `limit` of the oldest events created before `cutoff`, with their deliveries and
 * attempts (foreign keys cascade). An event with a delivery still open (queued, being sent or
 * retrying, as a stopped webhook's may be) is kept: retention never drops work. `skip locked`
 * leaves rows in use alone; each call is one short statement.
 */
const purgeSql = `
with doomed as (
  select e.id from event e
  where e.created_at < $1
    and not exists (
      select 1 from delivery d where d.event_id = e.id and d.status in ('PENDING', 'SENDING', 'RETRYING'))
  order by e.created_at
  limit $2
  for update of e skip locked
)
delete from event where id in (select id from doomed)
`;

export async function purgeOldEvents(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const result = await db.query(purgeSql, [cutoff, limit]);
  return result.rowCount ?? 0;
}
