import { Migration } from '@mikro-orm/migrations';

/** The first schema: projects, webhooks, events, deliveries and their attempts. */
export class Migration20261122000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table project (
        id uuid primary key,
        name text not null,
        created_at timestamptz not null default now()
      );

      create table webhook (
        id uuid primary key,
        project_id uuid not null references project (id) on delete cascade,
        name text not null,
        url text not null,
        method text not null default 'POST',
        event_types text[] not null,
        channels text[] not null default '{}',
        statuses text[] not null default '{}',
        query_params jsonb not null default '[]',
        headers jsonb not null default '[]',
        auth jsonb not null default '{"type":"NONE"}',
        body_format text not null default 'JSON',
        body_fields jsonb,
        timeout_ms integer not null default 10000,
        retry_schedule_seconds jsonb,
        active boolean not null default true,
        secret text not null,
        previous_secret text,
        previous_secret_expires_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index webhook_project_id_index on webhook (project_id, id);

      create table event (
        id uuid primary key,
        project_id uuid not null references project (id) on delete cascade,
        type text not null,
        channel text,
        data jsonb not null,
        idempotency_key text,
        callback_url text,
        callback_secret text,
        created_at timestamptz not null default now()
      );
      -- "The same key twice stores one event": enforced here, not by a read-then-write race.
      create unique index event_idempotency_key_unique on event (project_id, idempotency_key) where idempotency_key is not null;
      create index event_project_id_index on event (project_id, id);

      create table delivery (
        id uuid primary key,
        project_id uuid not null references project (id) on delete cascade,
        event_id uuid not null references event (id) on delete cascade,
        webhook_id uuid references webhook (id) on delete set null,
        event_type text not null,
        status text not null check (status in ('PENDING', 'SENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        attempt_count integer not null default 0,
        next_attempt_at timestamptz,
        locked_by text,
        locked_until timestamptz,
        last_attempt_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      -- The dispatcher's claim reads this partial index only: due work, oldest first.
      create index delivery_due_index on delivery (next_attempt_at) where status in ('PENDING', 'RETRYING');
      -- The lease sweep looks for SENDING rows whose lease ran out.
      create index delivery_lease_index on delivery (locked_until) where status = 'SENDING';
      -- Listing: ids are UUIDv7, so ordering by id is ordering by creation time.
      create index delivery_project_id_index on delivery (project_id, id);
      create index delivery_project_status_index on delivery (project_id, status, id);
      create index delivery_webhook_index on delivery (webhook_id, status, id);
      create index delivery_event_index on delivery (event_id);
      create index delivery_project_event_type_index on delivery (project_id, event_type, id);

      create table attempt (
        id uuid primary key,
        project_id uuid not null references project (id) on delete cascade,
        delivery_id uuid not null references delivery (id) on delete cascade,
        webhook_id uuid,
        event_id uuid not null,
        number integer not null,
        started_at timestamptz not null,
        duration_ms integer,
        request_method text not null,
        request_url text not null,
        request_headers jsonb not null,
        request_body text,
        response_status integer,
        response_headers jsonb,
        response_body text,
        error text,
        success boolean not null,
        created_at timestamptz not null default now()
      );
      create index attempt_delivery_index on attempt (delivery_id, number);
      create index attempt_project_id_index on attempt (project_id, id);
      create index attempt_webhook_index on attempt (webhook_id, id);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists attempt, delivery, event, webhook, project cascade;');
  }
}
