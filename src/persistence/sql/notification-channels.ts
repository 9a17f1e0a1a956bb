/** PostgreSQL NOTIFY channels: how processes sharing one database tell each other things. */

/**
 * Delivery status changes, in every process: subscribers get them, and a change to PENDING or
 * RETRYING that is due wakes the dispatchers (there is no separate wake-up message).
 */
export const deliveryChangedChannel = 'hookline_delivery_changed';
/** A webhook's health changed: reported failing, disabled, or recovered. */
export const webhookHealthChannel = 'hookline_webhook_health';
/** An API key was revoked: open subscriptions using it close, in every process. */
export const apiKeyRevokedChannel = 'hookline_api_key_revoked';

/**
 * Wake-ups for dispatchers when nobody watches delivery changes: an empty payload, sent at
 * most once per transaction, when the statement made a delivery due.
 */
export const deliveryDueChannel = 'hookline_delivery_due';

/**
 * Two advisory locks (two int4 keys, so pg_locks shows them with objsubid 2, apart from the
 * bigint keys of the migration and bootstrap locks) tell statements whether anyone watches:
 * - every process with a live `deliveryUpdated` subscription holds WATCHERS shared on its
 *   listening connection (a session lock: a crashed process stops holding it);
 * - every statement that announces changes holds BARRIER shared until it commits, and checks
 *   for WATCHERS after taking it. A process starting to watch takes WATCHERS, then BARRIER
 *   exclusively for a moment: that waits out the statements that looked before it arrived,
 *   so every change committed after a subscription starts reaches it.
 * A delivery changes three times (queued, claimed, recorded), and every change is built into
 * JSON by PostgreSQL, queued, and parsed by every Hookline process; when nobody watches, that
 * work is skipped.
 */
export const watchLockClass = 0x486b6c6e;
export const watchersLockKey = 1;
export const watchBarrierLockKey = 2;

/**
 * Changes per notification. A NOTIFY payload must stay under 8,000 bytes; one change is about
 * 330 bytes, up to about 500 with a 200-character event type.
 */
const changesPerNotification = 10;

/**
 * A CTE named `name` that announces every delivery row of `source` (a CTE returning delivery
 * rows) on the delivery channel as JSON arrays of changes, one NOTIFY per ten, sent with the
 * commit that made them; when no process watches delivery changes, it sends one empty wake-up
 * on the due channel instead, if the statement made a delivery due. The statement must read it,
 * for instance with `(select count(*) from notified)` in its select list, or PostgreSQL skips it.
 */
export function deliveryChangesNotification(source: string, name = 'notified'): string {
  return `${name}_watch as materialized (
    select exists (
      select 1 from pg_locks l
      where l.locktype = 'advisory' and l.granted and l.objsubid = 2
        and l.classid = ${watchLockClass} and l.objid = ${watchersLockKey}
        and l.database = (select oid from pg_database where datname = current_database())
        -- Correlated with the barrier row, so it is looked at only once the barrier is held.
        and barrier.held
    ) as watched
    from (select pg_advisory_xact_lock_shared(${watchLockClass}, ${watchBarrierLockKey})::text is not null as held) barrier
  ), ${name} as (
    select pg_notify('${deliveryChangedChannel}', json_agg(change)::text)
    from (
      select json_build_object(
               'id', s.id, 'projectId', s.project_id, 'eventId', s.event_id, 'webhookId', s.webhook_id,
               'eventType', s.event_type, 'status', s.status, 'attemptCount', s.attempt_count,
               'nextAttemptAt', s.next_attempt_at, 'lastAttemptAt', s.last_attempt_at,
               'createdAt', s.created_at, 'updatedAt', s.updated_at) as change,
             (row_number() over () - 1) / ${changesPerNotification} as chunk
      from ${source} s
      where (select watched from ${name}_watch)) changes
    group by chunk
    union all
    select pg_notify('${deliveryDueChannel}', '')
    where exists (select 1 from ${source} s where s.status in ('PENDING', 'RETRYING') and s.next_attempt_at <= now() + interval '1 second')
      and not (select watched from ${name}_watch))`;
}
