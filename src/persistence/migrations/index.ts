import { Migration20261122000000_initial } from './Migration20261122000000_initial.js';
import { Migration20261122000100_callback_shape } from './Migration20261122000100_callback_shape.js';
import { Migration20261122000200_health_ordering_retention } from './Migration20261122000200_health_ordering_retention.js';
import { Migration20261122000300_api_keys } from './Migration20261122000300_api_keys.js';
import { Migration20261122000400_derived_last_attempts } from './Migration20261122000400_derived_last_attempts.js';
import { Migration20261122000500_delivery_time_in_id } from './Migration20261122000500_delivery_time_in_id.js';
import { Migration20261204000000_lease_index_by_lock } from './Migration20261204000000_lease_index_by_lock.js';
import { Migration20261204010000_fewer_writes_per_attempt } from './Migration20261204010000_fewer_writes_per_attempt.js';

/**
 * Migrations are listed here rather than found by globbing the folder: the same list then
 * works from compiled JavaScript, from TypeScript under jest, and in a bundled build.
 */
export const migrationsList = [
  { name: 'Migration20261122000000_initial', class: Migration20261122000000_initial },
  { name: 'Migration20261122000100_callback_shape', class: Migration20261122000100_callback_shape },
  { name: 'Migration20261122000200_health_ordering_retention', class: Migration20261122000200_health_ordering_retention },
  { name: 'Migration20261122000300_api_keys', class: Migration20261122000300_api_keys },
  { name: 'Migration20261122000400_derived_last_attempts', class: Migration20261122000400_derived_last_attempts },
  { name: 'Migration20261122000500_delivery_time_in_id', class: Migration20261122000500_delivery_time_in_id },
  { name: 'Migration20261204000000_lease_index_by_lock', class: Migration20261204000000_lease_index_by_lock },
  { name: 'Migration20261204010000_fewer_writes_per_attempt', class: Migration20261204010000_fewer_writes_per_attempt },
];
