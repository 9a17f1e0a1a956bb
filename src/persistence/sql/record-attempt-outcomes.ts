import type { Queryable } from '../database-pool.js';
import type { DeliveryStatus } from '../../domain/delivery-status.js';
import { deliveryChangesNotification, webhookHealthChannel } from './notification-channels.js';

export interface AttemptOutcomeRecord {
  deliveryId: string;
  attemptId: string;
  projectId: string;
  webhookId: string | null;
  eventId: string;
  number: number;
  /** The delivery's status after this attempt. */
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  startedAt: Date;
  durationMs: number | null;
  requestMethod: string;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  success: boolean;
}

/**
 * Records attempts and moves their deliveries on, for any number of deliveries in one
 * statement. The attempt row is always written (the request did go out); the delivery only
 * moves if this worker still holds its claim, so a process whose lease was swept away cannot
 * overwrite the work of the one that took the delivery over.
 *
 * The same statement keeps each webhook's failure streak: a success ends it, a failure extends
 * it (the health sweep disables webhooks whose streak lasts too long). A webhook's last success
 * and failure are read from its attempts, so a healthy webhook's row is not written here. A webhook that
 * had been reported failing and now succeeds is announced as recovered over NOTIFY.
 */
const recordSql = `
with outcome as (
  select * from jsonb_to_recordset($1::jsonb) as o(
    delivery_id uuid, attempt_id uuid, project_id uuid, webhook_id uuid, event_id uuid, number int,
    status text, next_attempt_at timestamptz, started_at timestamptz, duration_ms int,
    request_method text, request_url text, request_headers jsonb, request_body text,
    response_status int, response_headers jsonb, response_body text, error text, success boolean)
), inserted as (
  insert into attempt (id, project_id, delivery_id, webhook_id, event_id, number, started_at, duration_ms,
                       request_method, request_url, request_headers, request_body,
                       response_status, response_headers, response_body, error, success, worker_id)
  select attempt_id, project_id, delivery_id, webhook_id, event_id, number, started_at, duration_ms,
         request_method, request_url, request_headers, request_body,
         response_status, response_headers, response_body, error, success, $2
  from outcome
), updated as (
  update delivery d
  set status = o.status, attempt_count = o.number, next_attempt_at = o.next_attempt_at,
      locked_by = null, locked_until = null, last_attempt_at = o.started_at, updated_at = now()
  from outcome o
  -- The batch's ids as an array, looked up in the primary key: PostgreSQL cannot see how few
  -- rows the JSON holds, and it guesses that hardly any delivery is SENDING for this worker,
  -- so joining on the JSON alone it may read the whole table and match each row to the batch.
  where d.id = any(array(select delivery_id from outcome)) and d.id = o.delivery_id
    and d.locked_by = $2 and d.status = 'SENDING'
  returning d.*
), ${deliveryChangesNotification('updated')}, by_webhook as (
  -- Per webhook: the batch's last success, and the failures after it (all of them without one),
  -- which start or extend the streak. Failures before a success in the same batch are over.
  select o.webhook_id, max(o.started_at) filter (where o.success) as last_success_at
  from outcome o where o.webhook_id is not null
  group by o.webhook_id
), streak as (
  select b.webhook_id, b.last_success_at is not null as any_success,
         count(f.delivery_id) as failures, min(f.started_at) as first_failure_at
  from by_webhook b
  left join outcome f on f.webhook_id = b.webhook_id and not f.success
                     and (b.last_success_at is null or f.started_at > b.last_success_at)
  group by b.webhook_id, b.last_success_at
), before_change as (
  -- The webhooks as they were: CTEs share one snapshot, so this is before the update below.
  select w.id, w.failing_notified_at from webhook w join streak b on b.webhook_id = w.id
), health as (
  update webhook w
  set consecutive_failures = case when b.any_success then b.failures else w.consecutive_failures + b.failures end,
      failing_since = case when b.any_success then b.first_failure_at else coalesce(w.failing_since, b.first_failure_at) end,
      failing_notified_at = case when b.any_success then null else w.failing_notified_at end
  from streak b
  where w.id = b.webhook_id
    -- A healthy webhook that keeps succeeding is left alone: no new row version per batch.
    and (b.failures > 0 or w.consecutive_failures <> 0 or w.failing_since is not null or w.failing_notified_at is not null)
  returning w.id, w.project_id, b.any_success
), recovered as (
  select pg_notify('${webhookHealthChannel}', json_build_object('webhookId', h.id, 'projectId', h.project_id, 'state', 'RECOVERED')::text)
  from health h join before_change p on p.id = h.id
  where h.any_success and p.failing_notified_at is not null
)
-- The notification CTEs are read so that PostgreSQL runs them.
select u.id, (select count(*) from notified) + (select count(*) from recovered) as notifications from updated u
`;

/** PostgreSQL text cannot hold NUL characters; a receiver's answer may. */
function storable(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '\uFFFD');
}

/** Returns the ids of the deliveries that moved on (those this worker still held). */
export async function recordAttemptOutcomes(db: Queryable, workerId: string, outcomes: readonly AttemptOutcomeRecord[]): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const rows = outcomes.map((o) => ({
    delivery_id: o.deliveryId,
    attempt_id: o.attemptId,
    project_id: o.projectId,
    webhook_id: o.webhookId,
    event_id: o.eventId,
    number: o.number,
    status: o.status,
    next_attempt_at: o.nextAttemptAt?.toISOString() ?? null,
    started_at: o.startedAt.toISOString(),
    duration_ms: o.durationMs,
    request_method: o.requestMethod,
    request_url: o.requestUrl,
    request_headers: o.requestHeaders,
    request_body: storable(o.requestBody),
    response_status: o.responseStatus,
    response_headers: o.responseHeaders,
    response_body: storable(o.responseBody),
    error: storable(o.error),
    success: o.success,
  }));
  const result = await db.query({ name: 'record-attempt-outcomes', text: recordSql, values: [JSON.stringify(rows), workerId] });
  return new Set(result.rows.map((row) => row.id as string));
}
