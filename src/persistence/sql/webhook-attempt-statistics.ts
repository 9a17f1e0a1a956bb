import type { Queryable } from '../database-pool.js';

export interface AttemptStatistics {
  attempts: number;
  successes: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

export interface WebhookAttemptStatistics {
  lastHour: AttemptStatistics;
  lastDay: AttemptStatistics;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
}

function windowColumns(name: string, interval: string): string {
  const inWindow = `started_at > now() - interval '${interval}'`;
  return `
    count(*) filter (where ${inWindow}) as ${name}_attempts,
    count(*) filter (where ${inWindow} and success) as ${name}_successes,
    percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) filter (where ${inWindow} and duration_ms is not null) as ${name}_latency`;
}

/**
 * Attempt counts and latency percentiles per webhook over the last hour and day, in one query.
 * Naming both outcomes lets attempt_webhook_outcome_index (webhook_id, success, started_at)
 * start at the window's beginning for each of them, instead of reading the webhook's whole history.
 */
const statisticsSql = `
select webhook_id, ${windowColumns('hour', '1 hour')}, ${windowColumns('day', '1 day')}
from attempt
where webhook_id = any($1::uuid[]) and success in (true, false) and started_at > now() - interval '1 day'
group by webhook_id
`;

function statistics(row: Record<string, any> | undefined, name: 'hour' | 'day'): AttemptStatistics {
  const latency: (number | null)[] = row?.[`${name}_latency`] ?? [null, null, null];
  const round = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(value * 10) / 10);
  return {
    attempts: row?.[`${name}_attempts`] ?? 0,
    successes: row?.[`${name}_successes`] ?? 0,
    latencyP50Ms: round(latency[0]),
    latencyP95Ms: round(latency[1]),
    latencyP99Ms: round(latency[2]),
  };
}

/** Each webhook's newest successful and failed attempt, whenever they were: two short index scans each. */
const lastAttemptsSql = `
select w.id,
       (select a.started_at from attempt a where a.webhook_id = w.id and a.success order by a.started_at desc limit 1) as last_success_at,
       (select a.started_at from attempt a where a.webhook_id = w.id and not a.success order by a.started_at desc limit 1) as last_failure_at
from unnest($1::uuid[]) as w(id)
`;

export async function loadWebhookAttemptStatistics(db: Queryable, webhookIds: readonly string[]): Promise<Map<string, WebhookAttemptStatistics>> {
  const [result, lastAttempts] = await Promise.all([db.query(statisticsSql, [webhookIds]), db.query(lastAttemptsSql, [webhookIds])]);
  const byId = new Map(result.rows.map((row) => [row.webhook_id as string, row]));
  const lastById = new Map(lastAttempts.rows.map((row) => [row.id as string, row]));
  return new Map(
    webhookIds.map((id) => [
      id,
      {
        lastHour: statistics(byId.get(id), 'hour'),
        lastDay: statistics(byId.get(id), 'day'),
        lastSuccessAt: lastById.get(id)?.last_success_at ?? null,
        lastFailureAt: lastById.get(id)?.last_failure_at ?? null,
      },
    ]),
  );
}
