/**
 * When the next attempt of a failed delivery happens, as a pure function of the attempt
 * number, the outcome and a random source, so tests cover jitter and Retry-After without a clock.
 */

/** 10 s, 1 min, 5 min, 30 min, 1 h, 3 h, 6 h, 12 h: nine attempts over about 22.6 hours. */
export const defaultRetryScheduleSeconds: readonly number[] = [10, 60, 300, 1800, 3600, 10800, 21600, 43200];

export const retryJitterRatio = 0.2;
/** A receiver may ask for a pause with Retry-After, but not for less than this... */
export const minimumRetryAfterSeconds = 1;
/** ...nor for more than this: past it the schedule's own slot applies. */
export const maximumRetryAfterSeconds = 6 * 3600;

export interface RetryDecisionInput {
  /** The number of the attempt that just failed, starting at 1. */
  attemptNumber: number;
  schedule: readonly number[];
  now: Date;
  /** Seconds from a Retry-After header on a 429 or 503 answer, when there was one. */
  retryAfterSeconds?: number | null;
  /** A number in [0, 1); Math.random in production. */
  random: () => number;
}

export type RetryDecision = { kind: 'retry'; nextAttemptAt: Date; delayMs: number } | { kind: 'give-up' };

export function decideRetry(input: RetryDecisionInput): RetryDecision {
  const slot = input.schedule[input.attemptNumber - 1];
  if (slot === undefined) return { kind: 'give-up' };
  let delayMs: number;
  const retryAfter = input.retryAfterSeconds;
  if (retryAfter != null && Number.isFinite(retryAfter) && retryAfter <= maximumRetryAfterSeconds) {
    // The receiver said when it can take more: believe it, with a floor so a "0" cannot spin us.
    delayMs = Math.max(minimumRetryAfterSeconds, retryAfter) * 1000;
  } else {
    const jitter = 1 + retryJitterRatio * (2 * input.random() - 1);
    delayMs = Math.round(slot * 1000 * jitter);
  }
  return { kind: 'retry', delayMs, nextAttemptAt: new Date(input.now.getTime() + delayMs) };
}

/** Reads a Retry-After value: delta-seconds or an HTTP date. Returns seconds from now, or null. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its day and month; without letters, Date.parse would read "-5" as a year.
  if (!/[a-z]{3}/i.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
