/**
 * `npm run bench`: Hookline's throughput, latency, CPU and memory, side by side with what a
 * user would build instead (graphile-worker) and with what this stack can do at all (a
 * minimal raw-SQL script), in one run, on one PostgreSQL server, against one receiver.
 * Everything runs on 127.0.0.1, in separate processes, and is torn down at the end.
 *
 * The output is a table and, as the very last line, one machine-readable RESULT line.
 * Progress goes to stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { snapshotBuild } from './build-snapshot.js';
import { openDatabaseServer, type DatabaseServer } from './database-server.js';
import { killAllHooklineProcesses } from './hookline-process.js';
import { forkHelper, killAllHelpers, type HelperProcess } from './ipc.js';
import { parseOptions, usage, type BenchOptions } from './options.js';
import { runBacklogPhase, type BacklogResult } from './phases/backlog-phase.js';
import { runBaselinePhase } from './phases/baseline-phase.js';
import { runHooklinePhases } from './phases/hookline-phases.js';
import { runLimitPhase } from './phases/limit-phase.js';
import type { PhaseContext } from './phases/phase-context.js';
import { formatTable, perSecond, resultLine, type PhaseResult } from './report.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(' ');

interface BenchOutcome {
  hooklineThroughput: PhaseResult;
  hooklineLatency: PhaseResult;
  baseline: PhaseResult;
  limit: PhaseResult;
  limitDrainOnly: PhaseResult;
  backlog: BacklogResult | null;
  hooklinePeakRssMb: number;
  databaseDescription: string;
}

/** Undone in reverse order, whether the run ends normally, by an error or by a signal. */
const teardown: (() => Promise<void>)[] = [];

let tearingDown: Promise<void> | null = null;

/** Once only: a signal and the failing phase it interrupts both ask for it. */
function runTeardown(): Promise<void> {
  return (tearingDown ??= (async () => {
    while (teardown.length > 0) {
      await teardown
        .pop()!()
        .catch((error) => log(`teardown step failed: ${error instanceof Error ? error.message : error}`));
    }
  })());
}

async function runPhases(options: BenchOptions): Promise<BenchOutcome> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'hookline-bench-run-'));
  teardown.push(() => rm(workDir, { recursive: true, force: true }));
  const build = await snapshotBuild(workDir);

  const server: DatabaseServer = await openDatabaseServer();
  teardown.push(() => server.close());
  log(`database: ${server.description}`);

  const receiverArgs = ['--delay-ms', String(options.receiverDelayMs), '--failure-rate', String(options.receiverFailureRate)];
  const receiver: HelperProcess<{ port: number }> = await forkHelper('receiver', build.module('bench/receiver.js'), receiverArgs);
  teardown.push(() => receiver.stop());

  const context: PhaseContext = { options, server, receiver, receiverUrl: `http://127.0.0.1:${receiver.ready.port}`, workDir, build, log };
  const hookline = await runHooklinePhases(context);
  const baseline = await runBaselinePhase(context);
  const limit = await runLimitPhase(context, 'stored while sending');
  const limitDrainOnly = await runLimitPhase(context, 'drain only');
  const backlog = options.backlogSize > 0 ? await runBacklogPhase(context, options.backlogSize) : null;

  return {
    hooklineThroughput: hookline.throughput,
    hooklineLatency: hookline.latency,
    baseline,
    limit,
    limitDrainOnly,
    backlog,
    hooklinePeakRssMb: Math.max(hookline.peakRssMb, backlog?.peakRssMb ?? 0),
    databaseDescription: server.description,
  };
}

function printReport(options: BenchOptions, outcome: BenchOutcome, startedAt: number, loadAtStart: string): void {
  const { hooklineThroughput, hooklineLatency, baseline, limit, limitDrainOnly, backlog } = outcome;
  const results = [hooklineThroughput, hooklineLatency, baseline, limit, limitDrainOnly, ...(backlog ? [backlog.result] : [])];
  const cpu = os.cpus();
  const lines = [
    '',
    `Hookline benchmark, ${new Date().toISOString()}`,
    `machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`,
    `database: ${outcome.databaseDescription}`,
    `sizes: ${options.events} events × 2 webhooks, batches of ${options.batchSize}, ${options.publishersInFlight} in flight; ` +
      `latency ${options.rate}/s for ${options.durationSeconds} s after ${options.warmupSeconds} s of warm-up${options.settle ? ', on a vacuumed database' : ' (no vacuum before it)'}; concurrency ${options.concurrency}` +
      (options.receiverDelayMs || options.receiverFailureRate ? `; receiver delay ${options.receiverDelayMs} ms, failure rate ${options.receiverFailureRate}` : ''),
    `load average (1 5 15 min): ${loadAtStart} at start, ${loadAverage()} at end; run took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    '',
    formatTable(results),
    '',
    'CPU ms/delivery: the process doing the work (Hookline, publishing included / graphile-worker and limit script, storing not included: the parent stores);',
    'PG CPU: the whole PostgreSQL server over the phase (embedded only). RSS: the largest resident set sampled during the phase.',
    'idle %: the share of the machine\'s CPU (all cores) nobody used over the phase; a throughput phase well above 0 was held back by waiting, not by CPU.',
    'Latency: publish to receiver. Throughput rows: the work is stored (published) while it is sent, inside the clock;',
    '"limit, drain only" had its deliveries stored before its clock started (compare with the backlog row, which drains the same way).',
    `Hookline peak RSS (VmHWM): ${outcome.hooklinePeakRssMb.toFixed(0)} MB`,
    ...(options.profileDir ? [`Hookline CPU profiles (one per Hookline process): ${options.profileDir}`] : []),
    ...results.flatMap((result) => (result.notes ?? []).map((note) => `${result.phase}: ${note}`)),
  ];
  if (backlog) {
    const { rssFirstQuarterMedianMb: first, rssLastQuarterMedianMb: last, rssSamples } = backlog;
    const growing = last > first * 1.1 + 5;
    lines.push(
      `backlog RSS over ${rssSamples} samples: first-quarter median ${first.toFixed(0)} MB, last-quarter median ${last.toFixed(0)} MB: ${growing ? 'GROWING' : 'flat'}`,
      `queries over the drained backlog (${backlog.result.count} deliveries and their attempts stored), ${backlog.queries[0]?.runs ?? 0} runs each, GraphQL over HTTP:`,
      ...backlog.queries.map((timing) => `  ${timing.query}: p50 ${timing.p50Ms.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms`),
    );
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
  // The very last line.
  process.stdout.write(
    resultLine({
      hooklinePerSecond: perSecond(hooklineThroughput),
      baselinePerSecond: perSecond(baseline),
      limitPerSecond: perSecond(limit),
      p50Ms: hooklineLatency.latency?.p50 ?? null,
      p99Ms: hooklineLatency.latency?.p99 ?? null,
      rssMb: outcome.hooklinePeakRssMb,
    }) + '\n',
  );
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }

  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything`);
    killAllHooklineProcesses();
    killAllHelpers();
    void runTeardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  let outcome: BenchOutcome;
  try {
    outcome = await runPhases(options);
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    killAllHooklineProcesses();
    killAllHelpers();
    await runTeardown();
    return 1;
  }
  // Everything is stopped before the report, so nothing can print after the RESULT line.
  await runTeardown();
  printReport(options, outcome, startedAt, loadAtStart);
  return 0;
}

process.exitCode = await main();
