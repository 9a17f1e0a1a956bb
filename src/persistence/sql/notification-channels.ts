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
 * Changes per notification. A NOTIFY payload must stay under 8,000 bytes; one change is about
 * 330 bytes, up to about 500 with a 200-character event type.
 */
const changesPerNotification = 10;

/**
 * A CTE named `name` that announces every delivery row of `source` (a CTE returning delivery
 * rows) on the delivery channel as JSON arrays of changes, one NOTIFY per ten, sent with the
 * commit that made them. The statement must read it, for instance with
 * `(select count(*) from notified)` in its select list, or PostgreSQL skips it.
 */
export function deliveryChangesNotification(source: string, name = 'notified'): string {
  return `${name} as (
    select pg_notify('${deliveryChangedChannel}', json_agg(change)::text)
    from (
      select json_build_object(
               'id', s.id, 'projectId', s.project_id, 'eventId', s.event_id, 'webhookId', s.webhook_id,
               'eventType', s.event_type, 'status', s.status, 'attemptCount', s.attempt_count,
               'nextAttemptAt', s.next_attempt_at, 'lastAttemptAt', s.last_attempt_at,
               'createdAt', s.created_at, 'updatedAt', s.updated_at) as change,
             (row_number() over () - 1) / ${changesPerNotification} as chunk
      from ${source} s) changes
    group by chunk)`;
}
