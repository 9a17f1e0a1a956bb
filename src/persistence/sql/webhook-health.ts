import type { Queryable } from '../database-pool.js';
import { deliveryChangesNotification, webhookHealthChannel } from './notification-channels.js';

export interface WebhookHealthChange {
  id: string;
  projectId: string;
  name: string;
  url: string;
  consecutiveFailures: number;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  disabledAt: Date | null;
}

function toChange(row: Record<string, any>): WebhookHealthChange {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    url: row.url,
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    lastSuccessAt: row.last_success_at ?? null,
    lastFailureAt: row.last_failure_at ?? null,
    disabledAt: row.disabled_at,
  };
}

/** A webhook's newest successful and failed attempts, for the events that report on it. */
const lastAttemptColumns = `
  (select max(a.started_at) from attempt a where a.webhook_id = w.id and a.success) as last_success_at,
  (select max(a.started_at) from attempt a where a.webhook_id = w.id and not a.success) as last_failure_at`;

function notifyHealth(state: 'FAILING' | 'DISABLED'): string {
  return `pg_notify('${webhookHealthChannel}', json_build_object('webhookId', w.id, 'projectId', w.project_id, 'state', '${state}')::text)`;
}

/**
 * Stops active webhooks that have failed without a success since `failingSince` older than the
 * cutoff. Their queued deliveries wait (undue), as for any stopped webhook. `for update skip
 * locked` lets several processes sweep at once without disabling one webhook twice.
 */
export async function disableLongFailingWebhooks(db: Queryable, failingBefore: Date, reason: (since: Date) => string): Promise<WebhookHealthChange[]> {
  const due = await db.query(
    `select id, failing_since from webhook where active and failing_since < $1 order by failing_since limit 100 for update skip locked`,
    [failingBefore],
  );
  if (due.rowCount === 0) return [];
  const reasons = due.rows.map((row) => ({ id: row.id, reason: reason(row.failing_since) }));
  const disabled = await db.query(
    `with reason as (select * from jsonb_to_recordset($1::jsonb) as r(id uuid, reason text)),
     disabled as (
       update webhook w set active = false, disabled_at = now(), disabled_reason = reason.reason
       from reason where w.id = reason.id and w.active
       returning w.*),
     paused as (
       update delivery d set next_attempt_at = null, updated_at = now()
       from disabled w
       where d.webhook_id = w.id and d.status in ('PENDING', 'RETRYING') and d.next_attempt_at is not null
       returning d.*),
     ${deliveryChangesNotification('paused')}
     select w.*, ${lastAttemptColumns}, ${notifyHealth('DISABLED')}, (select count(*) from notified) as notifications from disabled w`,
    [JSON.stringify(reasons)],
  );
  return disabled.rows.map(toChange);
}

/** Marks webhooks whose failure streak reached the threshold as reported, once per streak. */
export async function markFailingWebhooks(db: Queryable, threshold: number): Promise<WebhookHealthChange[]> {
  const result = await db.query(
    `with due as (
       select id from webhook
       where active and consecutive_failures >= $1 and failing_notified_at is null
       limit 100 for update skip locked)
     update webhook w set failing_notified_at = now()
     from due where w.id = due.id
     returning w.*, ${lastAttemptColumns}, ${notifyHealth('FAILING')}`,
    [threshold],
  );
  return result.rows.map(toChange);
}
