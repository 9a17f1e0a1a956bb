/**
 * API keys: random, shown once, stored only as a hash, found again by their hash and listed
 * by their prefix. 32 random bytes leave nothing to guess, so a plain SHA-256 is enough (a
 * slow password hash guards low-entropy secrets, which these are not).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const apiKeyPrefix = 'hk_';
const visiblePrefixLength = apiKeyPrefix.length + 8;

export interface NewApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  /** What lists show, e.g. "hk_4fQ0aZ1x". */
  prefix: string;
  hash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): NewApiKey {
  const key = apiKeyPrefix + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, visiblePrefixLength), hash: hashApiKey(key) };
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(apiKeyPrefix) && value.length > visiblePrefixLength && value.length < 200;
}

/** The token of an `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** Compares two secrets in constant time (for the admin token). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
