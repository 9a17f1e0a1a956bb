import { Migration } from '@mikro-orm/migrations';

/**
 * A webhook's last success and last failure are read from its attempts (an index scan from
 * the newest) instead of being rewritten on the webhook row for every batch of attempts:
 * a healthy webhook's row is no longer written on the hot path at all.
 */
export class Migration20261122000400_derived_last_attempts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table webhook drop column last_success_at, drop column last_failure_at;
      -- "The newest successful (or failed) attempt of this webhook", read from the end.
      create index attempt_webhook_outcome_index on attempt (webhook_id, success, started_at);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop index if exists attempt_webhook_outcome_index;
      alter table webhook add column last_success_at timestamptz, add column last_failure_at timestamptz;
    `);
  }
}
