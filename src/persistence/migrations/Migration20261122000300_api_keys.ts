import { Migration } from '@mikro-orm/migrations';

/** API keys: each scopes its bearer to one project. Only a hash of the key is kept. */
export class Migration20261122000300_api_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table api_key (
        id uuid primary key,
        project_id uuid not null references project (id) on delete cascade,
        name text,
        prefix text not null,
        key_hash text not null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      -- Every authenticated request finds its key by hash.
      create unique index api_key_hash_unique on api_key (key_hash);
      create index api_key_project_index on api_key (project_id, id);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists api_key;');
  }
}
