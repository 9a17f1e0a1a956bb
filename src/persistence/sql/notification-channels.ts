/** PostgreSQL NOTIFY channels: how processes sharing one database tell each other things. */
export const wakeUpChannel = 'hookline_wake_up';
export const deliveryChangedChannel = 'hookline_delivery_changed';
/** A webhook's health changed: reported failing, disabled, or recovered. */
export const webhookHealthChannel = 'hookline_webhook_health';
/** An API key was revoked: open subscriptions using it close, in every process. */
export const apiKeyRevokedChannel = 'hookline_api_key_revoked';

/**
 * The JSON a delivery's status change carries over NOTIFY, built in SQL so the notification
 * leaves with the commit that made the change. `alias` names the delivery row in the query.
 */
export function deliveryChangePayload(alias: string): string {
  return `json_build_object(
    'id', ${alias}.id, 'projectId', ${alias}.project_id, 'eventId', ${alias}.event_id,
    'webhookId', ${alias}.webhook_id, 'eventType', ${alias}.event_type, 'status', ${alias}.status,
    'attemptCount', ${alias}.attempt_count, 'nextAttemptAt', ${alias}.next_attempt_at,
    'lastAttemptAt', ${alias}.last_attempt_at,
    'createdAt', ${alias}.created_at, 'updatedAt', ${alias}.updated_at)::text`;
}

export function notifyDeliveryChanged(alias: string): string {
  return `pg_notify('${deliveryChangedChannel}', ${deliveryChangePayload(alias)})`;
}
