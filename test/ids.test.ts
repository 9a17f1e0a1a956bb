import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { validate, version } from 'uuid';
import { newId } from '../src/domain/ids.js';
import { uuidTime } from '../src/services/pagination.js';

afterEach(() => {
  jest.restoreAllMocks();
});

function isStrictlyIncreasing(ids: readonly string[]): boolean {
  return ids.every((id, index) => index === 0 || id > ids[index - 1]!);
}

describe('newId', () => {
  test('makes valid, distinct UUIDv7s that carry the millisecond they were made in', () => {
    const before = Date.now();
    const ids = Array.from({ length: 50_000 }, () => newId());
    const after = Date.now();
    expect(ids.every((id) => validate(id) && version(id) === 7 && /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    // The variant bits (10xx) of RFC 9562.
    expect(ids.every((id) => '89ab'.includes(id[19]!))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const times = ids.map((id) => uuidTime(id).getTime());
    expect(Math.min(...times)).toBeGreaterThanOrEqual(before);
    expect(Math.max(...times)).toBeLessThanOrEqual(after);
    // The random tail changes between ids (it comes from the pool, 16 fresh bytes each).
    expect(new Set(ids.map((id) => id.slice(24))).size).toBe(ids.length);
  });

  test('ids only ever increase: within one millisecond, and when the clock is set back', () => {
    const clock = jest.spyOn(Date, 'now');
    clock.mockReturnValue(Date.parse('2031-05-01T00:00:00.000Z'));
    const sameMillisecond = Array.from({ length: 5_000 }, () => newId());
    clock.mockReturnValue(Date.parse('2031-04-30T23:59:00.000Z'));
    const afterSetBack = Array.from({ length: 100 }, () => newId());
    clock.mockReturnValue(Date.parse('2031-05-01T00:00:01.000Z'));
    const later = newId();

    const all = [...sameMillisecond, ...afterSetBack, later];
    expect(isStrictlyIncreasing(all)).toBe(true);
    expect(new Set(sameMillisecond.map((id) => uuidTime(id).toISOString()))).toEqual(new Set(['2031-05-01T00:00:00.000Z']));
    // Set back, the ids keep the last millisecond seen and count up within it.
    expect(uuidTime(afterSetBack.at(-1)!).toISOString()).toBe('2031-05-01T00:00:00.000Z');
    expect(uuidTime(later).toISOString()).toBe('2031-05-01T00:00:01.000Z');
  });
});
