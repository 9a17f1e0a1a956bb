/** How the phases drive load and decide they are done: the same rules for every contender. */
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** What is being counted, for error messages. */
  what: string;
  intervalMs: number;
  /** Give up when the count has not moved for this long. */
  stallTimeoutMs: number;
  /** Called on every poll; throws to stop waiting (a publisher failed, a process died). */
  check?: () => void;
  /** Called with each count read, e.g. to show progress. */
  onCount?: (count: number) => void;
}

/**
 * Polls `read` until it reaches `target`; resolves with the time (performance.now()) of the
 * poll that saw it. The poll interval bounds the error of the measured duration.
 */
export async function waitForCount(read: () => Promise<number>, target: number, options: WaitOptions): Promise<number> {
  let last = -1;
  let lastMovedAt = performance.now();
  for (;;) {
    options.check?.();
    const count = await read();
    const now = performance.now();
    options.onCount?.(count);
    if (count >= target) return now;
    if (count !== last) {
      last = count;
      lastMovedAt = now;
    } else if (now - lastMovedAt > options.stallTimeoutMs) {
      throw new Error(`${options.what}: stuck at ${count} of ${target} for ${Math.round(options.stallTimeoutMs / 1000)} s`);
    }
    await sleep(options.intervalMs);
  }
}

/** Remembers the first failure of work started in the background, for `check` to rethrow. */
export class BackgroundFailure {
  private error: unknown = null;

  watch(work: Promise<unknown>): Promise<unknown> {
    return work.catch((error) => {
      this.error ??= error ?? new Error('background work failed');
    });
  }

  check = (): void => {
    if (this.error) throw this.error;
  };
}

/**
 * Sends `total` items in batches of `batchSize`, with `inFlight` batches under way at once,
 * as a busy platform would. `sendBatch` gets the first item's sequence number and the count.
 */
export async function sendInBatches(total: number, batchSize: number, inFlight: number, sendBatch: (first: number, count: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const first = next;
      const count = Math.min(batchSize, total - first);
      next += count;
      await sendBatch(first, count);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

export interface RateReport {
  /** Sends that started more than 10 ms after their slot (the publisher or Hookline fell behind). */
  late: number;
}

/**
 * Open-loop load: item i starts at start + i / rate, whether or not earlier ones have
 * finished, so a slow answer does not hide latency by slowing the load down. At most
 * `maximumInFlight` at once keeps a stalled service from piling up requests without bound.
 */
export async function sendAtRate(total: number, ratePerSecond: number, sendOne: (sequence: number) => Promise<void>, maximumInFlight = 100): Promise<RateReport> {
  const startedAt = performance.now();
  const running = new Set<Promise<void>>();
  const failures = new BackgroundFailure();
  let late = 0;
  for (let sequence = 0; sequence < total; sequence++) {
    failures.check();
    const slot = startedAt + (sequence * 1000) / ratePerSecond;
    const wait = slot - performance.now();
    if (wait > 0) await sleep(wait);
    while (running.size >= maximumInFlight) await Promise.race(running);
    if (performance.now() - slot > 10) late++;
    const send: Promise<void> = sendOne(sequence).finally(() => running.delete(send));
    running.add(send);
    void failures.watch(send);
  }
  await Promise.allSettled(running);
  failures.check();
  return { late };
}

/** Nearest-rank median of the values (unsorted input). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length / 2) - 1)] ?? 0;
}
