import { Migration } from '@mikro-orm/migrations';
import { uuidTimeSql } from '../sql/uuid-time.js';

/**
 * A delivery's created_at is the millisecond in its UUIDv7 id, so that a time filter over
 * deliveries is exactly an id range. Deliveries stored before this release had created_at
 * set by the database a moment after their id was made; they are aligned here (one pass over
 * the table; a fresh install has nothing to align).
 */
export class Migration20261122000500_delivery_time_in_id extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      with aligned as (
        select id, ${uuidTimeSql('id')} as id_time
        from delivery)
      update delivery d set created_at = a.id_time
      from aligned a
      where d.id = a.id and d.created_at is distinct from a.id_time;
    `);
  }

  override async down(): Promise<void> {
    // Nothing to undo: the times stay within moments of what they were.
  }
}
