/**
 * The backlog: a large number of due deliveries already in Hookline's database when it
 * starts (as after an outage of the receiver, or a restart under load). Shows the drain
 * rate and whether memory stays flat while it works through them.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { generateSecret } from '../../src/domain/signing.js';
import { createLogger } from '../../src/logger.js';
import { migrate } from '../../src/persistence/database.js';
import { benchEventChannel, benchEventType } from '../common.js';
import type { HooklineProcess } from '../hookline-process.js';
import { median, waitForCount } from '../measure.js';
import { ResourceMeter } from '../process-stats.js';
import type { PhaseResult } from '../report.js';
import { countRows, openPool, startHookline, type PhaseContext } from './phase-context.js';

export interface BacklogResult {
  result: PhaseResult;
  rssFirstQuarterMedianMb: number;
  rssLastQuarterMedianMb: number;
  rssSamples: number;
  peakRssMb: number;
}

const insertChunk = 100_000;

/** Events and their deliveries, PENDING and due now, straight into Hookline's tables. */
async function insertBacklog(pool: pg.Pool, total: number, projectId: string, webhookId: string, log: (message: string) => void): Promise<void> {
  // Hookline's ids are UUIDv7 (time-ordered); PostgreSQL 18 makes them itself, older servers get random ones.
  const { rows } = await pool.query<{ version: number }>(`select current_setting('server_version_num')::int as version`);
  const newId = rows[0]!.version >= 180000 ? 'uuidv7()' : 'gen_random_uuid()';
  for (let first = 1; first <= total; first += insertChunk) {
    const last = Math.min(total, first + insertChunk - 1);
    await pool.query(
      `with inserted_event as (
         insert into event (id, project_id, type, channel, data, created_at)
         select ${newId}, $1, $2, $3, json_build_object('messageId', 'm-' || i, 'status', 'delivered', 'to', '+15550100'), now()
         from generate_series($4::int, $5::int) as i
         returning id)
       insert into delivery (id, project_id, event_id, webhook_id, event_type, status, next_attempt_at, created_at, updated_at)
       select ${newId}, $1, id, $6, $2, 'PENDING', now(), now(), now() from inserted_event`,
      [projectId, benchEventType, benchEventChannel, first, last, webhookId],
    );
    log(`backlog: inserted ${last} of ${total} deliveries`);
  }
  // Bulk-loaded: the planner gets its statistics now, as autovacuum would within a minute.
  await pool.query('analyze event, delivery');
}

/** Deliveries not yet done; counted through the partial indexes that shrink as the backlog drains. */
const openDeliveriesSql = `
select (select count(*) from delivery where status in ('PENDING', 'RETRYING'))
     + (select count(*) from delivery where status = 'SENDING') as count`;

export async function runBacklogPhase(context: PhaseContext, total: number): Promise<BacklogResult> {
  const database = await context.server.createDatabase('backlog');
  const pool = openPool(database.url, 2);
  let hookline: HooklineProcess | null = null;
  try {
    // Hookline's own migrations, so the tables exist before it starts.
    await migrate(database.url, createLogger('warn'));
    const { rows } = await pool.query<{ project_id: string; webhook_id: string }>(
      `with project as (insert into project (id, name) values (gen_random_uuid(), 'bench-backlog') returning id)
       insert into webhook (id, project_id, name, url, event_types, secret)
       select gen_random_uuid(), project.id, 'bench-backlog', $1, '{*}', $2 from project
       returning project_id, id as webhook_id`,
      [`${context.receiverUrl}/backlog`, generateSecret()],
    );
    context.log(`backlog: inserting ${total} due deliveries`);
    await insertBacklog(pool, total, rows[0]!.project_id, rows[0]!.webhook_id, context.log);

    hookline = await startHookline(context, database);
    // Measured from the moment Hookline answers health checks: what it drains from then on.
    const startedAt = performance.now();
    const openAtStart = await countRows(pool, openDeliveriesSql);
    const meter = new ResourceMeter(hookline.pid, context.server.postmasterPid, 1000);
    let lastLogged = 0;
    const finishedAt = await waitForCount(async () => openAtStart - (await countRows(pool, openDeliveriesSql)), openAtStart, {
      what: 'backlog drain',
      // Every second: counting a million-row backlog every 100 ms would itself load the database.
      intervalMs: 1000,
      stallTimeoutMs: 60_000,
      onCount: (drained) => {
        if (performance.now() - lastLogged > 10_000) {
          lastLogged = performance.now();
          context.log(`backlog: ${drained} of ${openAtStart} drained`);
        }
      },
    });
    const reading = meter.stop();

    const succeeded = await countRows(pool, `select count(*) from delivery where status = 'SUCCEEDED'`);
    const attempts = await countRows(pool, 'select count(*) from attempt where success');
    if (succeeded !== total || attempts !== total) throw new Error(`backlog: ${total} deliveries, but ${succeeded} SUCCEEDED and ${attempts} successful attempts`);

    const samples = reading.rssSamplesMb;
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    return {
      result: {
        phase: 'hookline backlog drain',
        count: openAtStart,
        seconds: (finishedAt - startedAt) / 1000,
        cpuMs: reading.cpuMs,
        postgresCpuMs: reading.postgresCpuMs,
        rssMb: reading.maximumRssMb,
        latency: null,
      },
      rssFirstQuarterMedianMb: median(samples.slice(0, quarter)),
      rssLastQuarterMedianMb: median(samples.slice(-quarter)),
      rssSamples: samples.length,
      peakRssMb: reading.peakRssMb,
    };
  } finally {
    await hookline?.stop();
    await pool.end();
    await context.server.dropDatabase(database);
  }
}
