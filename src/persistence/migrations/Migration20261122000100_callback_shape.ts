import { Migration } from '@mikro-orm/migrations';

/** A callback URL given with an event can shape its body like a webhook (format and fields). */
export class Migration20261122000100_callback_shape extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table event add column callback_body_format text;
      alter table event add column callback_body_fields jsonb;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table event drop column callback_body_format, drop column callback_body_fields;');
  }
}
