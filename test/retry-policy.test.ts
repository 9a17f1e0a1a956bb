import { describe, expect, test } from '@jest/globals';
import { decideRetry, defaultRetryScheduleSeconds, parseRetryAfter } from '../src/domain/retry-policy.js';

const now = new Date('2026-01-01T00:00:00Z');
const delayOf = (decision: ReturnType<typeof decideRetry>) => (decision.kind === 'retry' ? decision.delayMs : null);

describe('decideRetry', () => {
  test('the default schedule covers about a day in nine attempts', () => {
    const totalHours = defaultRetryScheduleSeconds.reduce((sum, seconds) => sum + seconds, 0) / 3600;
    expect(totalHours).toBeGreaterThan(20);
    expect(totalHours).toBeLessThan(26);
    expect(defaultRetryScheduleSeconds).toHaveLength(8);
  });

  test('jitter stays within ±20% of the slot, at both ends of the random range', () => {
    const schedule = [100];
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule, now, random: () => 0 }))).toBe(80_000);
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule, now, random: () => 0.999999 }))).toBeCloseTo(120_000, -1);
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule, now, random: () => 0.5 }))).toBe(100_000);
  });

  test('the attempt number picks the slot, and the schedule running out means giving up', () => {
    const schedule = [10, 60];
    const second = decideRetry({ attemptNumber: 2, schedule, now, random: () => 0.5 });
    expect(second).toEqual({ kind: 'retry', delayMs: 60_000, nextAttemptAt: new Date(now.getTime() + 60_000) });
    expect(decideRetry({ attemptNumber: 3, schedule, now, random: () => 0.5 })).toEqual({ kind: 'give-up' });
    expect(decideRetry({ attemptNumber: 1, schedule: [], now, random: () => 0.5 })).toEqual({ kind: 'give-up' });
  });

  test('Retry-After replaces the slot, with a floor of one second and a ceiling of six hours', () => {
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule: [3600], now, random: () => 0.5, retryAfterSeconds: 2 }))).toBe(2000);
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule: [3600], now, random: () => 0.5, retryAfterSeconds: 0 }))).toBe(1000);
    // Past the ceiling the schedule's slot applies.
    expect(delayOf(decideRetry({ attemptNumber: 1, schedule: [60], now, random: () => 0.5, retryAfterSeconds: 7 * 3600 }))).toBe(60_000);
    // Retry-After does not extend the number of attempts.
    expect(decideRetry({ attemptNumber: 2, schedule: [60], now, random: () => 0.5, retryAfterSeconds: 5 })).toEqual({ kind: 'give-up' });
  });
});

describe('parseRetryAfter', () => {
  test('reads delta-seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});
