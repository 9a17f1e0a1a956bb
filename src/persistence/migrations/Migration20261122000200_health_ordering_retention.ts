import { Migration } from '@mikro-orm/migrations';

/**
 * Webhook health (failure streaks, auto-disable), per-key ordering of deliveries, which worker
 * made each attempt, the indexes the health figures and the retention sweep read, and event
 * data kept byte for byte.
 */
export class Migration20261122000200_health_ordering_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table webhook
        add column ordering_key text,
        add column consecutive_failures integer not null default 0,
        add column failing_since timestamptz,
        add column last_success_at timestamptz,
        add column last_failure_at timestamptz,
        add column failing_notified_at timestamptz,
        add column disabled_at timestamptz,
        add column disabled_reason text;
      -- The health sweep looks for active webhooks failing for too long.
      create index webhook_failing_index on webhook (failing_since) where active and failing_since is not null;

      alter table delivery add column ordering_key text;
      -- "Is an earlier delivery with my key still open?": asked by every claim of an ordered delivery.
      create index delivery_ordering_index on delivery (webhook_id, ordering_key, id)
        where ordering_key is not null and status in ('PENDING', 'SENDING', 'RETRYING');

      alter table attempt add column worker_id text;
      -- Latency percentiles and success rates per webhook over the last hour and day.
      create index attempt_webhook_started_index on attempt (webhook_id, started_at);

      -- Retention deletes the oldest events first.
      create index event_created_at_index on event (created_at);

      -- json keeps the published data as it came, key order included; jsonb would reorder the
      -- keys, and receivers would get different bytes from what was published and previewed.
      alter table event alter column data type json using data::json;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table event alter column data type jsonb using data::jsonb;
      drop index if exists event_created_at_index;
      drop index if exists attempt_webhook_started_index;
      alter table attempt drop column worker_id;
      drop index if exists delivery_ordering_index;
      alter table delivery drop column ordering_key;
      drop index if exists webhook_failing_index;
      alter table webhook drop column ordering_key, drop column consecutive_failures, drop column failing_since,
        drop column last_success_at, drop column last_failure_at, drop column failing_notified_at,
        drop column disabled_at, drop column disabled_reason;
    `);
  }
}
