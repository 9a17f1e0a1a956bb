/** The human table and the one machine-readable RESULT line. */
import type { LatencySummary } from './receiver.js';

export interface PhaseResult {
  phase: string;
  /** Deliveries completed (SUCCEEDED with their attempt recorded). */
  count: number;
  seconds: number;
  /** CPU of the process doing the work (Hookline, the graphile-worker process, the limit script). */
  cpuMs: number;
  /** CPU of the PostgreSQL server over the phase; null when it is not ours to see. */
  postgresCpuMs: number | null;
  /** Share of the machine's CPU (all cores) left idle over the phase: above a few percent, something other than CPU held the phase back. */
  machineIdleShare: number;
  /** Largest resident set sampled during the phase. */
  rssMb: number;
  latency: LatencySummary | null;
  /** Said under the table: what else was seen (how long publishing took, requests the receiver got). */
  notes?: string[];
}

export const perSecond = (result: PhaseResult) => result.count / result.seconds;

function cell(value: number | null | undefined, decimals: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(decimals);
}

export function formatTable(results: readonly PhaseResult[]): string {
  const header = ['phase', 'count', 'seconds', 'per second', 'CPU ms/delivery', 'PG CPU ms/delivery', 'idle %', 'RSS MB', 'p50 ms', 'p95 ms', 'p99 ms'];
  const rows = results.map((result) => [
    result.phase,
    String(result.count),
    cell(result.seconds, 1),
    cell(perSecond(result), 0),
    cell(result.cpuMs / result.count, 2),
    cell(result.postgresCpuMs === null ? null : result.postgresCpuMs / result.count, 2),
    cell(result.machineIdleShare * 100, 0),
    cell(result.rssMb, 0),
    cell(result.latency?.p50, 1),
    cell(result.latency?.p95, 1),
    cell(result.latency?.p99, 1),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export interface Summary {
  hooklinePerSecond: number;
  baselinePerSecond: number;
  limitPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  rssMb: number;
}

export function resultLine(summary: Summary): string {
  const fields = {
    deliveries_per_s: cell(summary.hooklinePerSecond, 0),
    baseline_per_s: cell(summary.baselinePerSecond, 0),
    ratio: cell(summary.hooklinePerSecond / summary.baselinePerSecond, 2),
    limit_per_s: cell(summary.limitPerSecond, 0),
    limit_ratio: cell(summary.hooklinePerSecond / summary.limitPerSecond, 2),
    p50_ms: cell(summary.p50Ms, 1),
    p99_ms: cell(summary.p99Ms, 1),
    rss_mb: cell(summary.rssMb, 0),
  };
  return `RESULT ${Object.entries(fields)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')}`;
}
