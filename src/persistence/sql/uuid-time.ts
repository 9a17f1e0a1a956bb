/** SQL for the moment a UUIDv7 was made (its first 48 bits, milliseconds), on any PostgreSQL version. */
export function uuidTimeSql(column: string): string {
  return `to_timestamp(('x' || substr(replace(${column}::text, '-', ''), 1, 12))::bit(48)::bigint / 1000.0)`;
}

/**
 * SQL making a UUIDv7 for now, on any PostgreSQL version (uuidv7() exists from 18 on): a random
 * UUID with the time in its first 48 bits and the version nibble turned from 4 to 7.
 */
export const newUuidV7Sql = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
  placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;
