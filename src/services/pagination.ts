/**
 * Keyset pagination over UUIDv7 ids, newest first. Ids are time-ordered, so "after this id"
 * is "older than this row", and every row is returned exactly once however rows are added
 * meanwhile. The cursor is opaque to callers.
 */
import { ValidationError } from '../domain/errors.js';

export const defaultPageSize = 50;
export const maximumPageSize = 500;

export interface PageRequest {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(id: string): string {
  return Buffer.from(`v1:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = decoded.startsWith('v1:') ? decoded.slice(3) : '';
  if (!uuidPattern.test(id)) throw new ValidationError('after is not a cursor this API returned', { field: 'after' });
  return id;
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return defaultPageSize;
  if (!Number.isInteger(first) || first < 1 || first > maximumPageSize) {
    throw new ValidationError(`first must be a whole number from 1 to ${maximumPageSize}`, { field: 'first' });
  }
  return first;
}

/** Builds a page from rows fetched with limit = size + 1. */
export function toPage<T extends { id: string }>(rows: T[], size: number): Page<T> {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, hasNextPage: rows.length > size, endCursor: last ? encodeCursor(last.id) : null };
}

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** The millisecond a UUIDv7 was made at: its first 48 bits. */
export function uuidTime(id: string): Date {
  return new Date(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

/**
 * The smallest UUIDv7 of a moment: ids made at or after it sort at or after this one. Lets a
 * time range use the id index (ids are UUIDv7, so id order is creation order).
 */
export function firstUuidAt(time: Date): string {
  const hex = Math.max(0, Math.min(time.getTime(), 2 ** 48 - 1)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
