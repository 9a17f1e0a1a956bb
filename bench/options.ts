/** The benchmark's command line: `npm run bench -- [--quick] [--backlog] [--events 20000] …` */
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  quick: boolean;
  /** Events published in the throughput phases; each goes to two webhooks. */
  events: number;
  /** Events per publishEvents call (and per enqueue transaction for the baseline). */
  batchSize: number;
  /** Publish calls in flight at once. */
  publishersInFlight: number;
  /** The latency phase: events per second, for this many seconds. */
  rate: number;
  durationSeconds: number;
  /** The latency phase first publishes at its rate for this long, unmeasured: code paths compile, caches and pools fill. */
  warmupSeconds: number;
  /** VACUUM and CHECKPOINT between the throughput and latency phases (--no-settle: not). */
  settle: boolean;
  /**
   * Requests in flight for the baseline and the limit script: what Hookline has with its defaults
   * for the benchmark's two webhooks (2 × HOOKLINE_PER_WEBHOOK_CONCURRENCY 32, under HOOKLINE_CONCURRENCY 128).
   */
  concurrency: number;
  receiverDelayMs: number;
  receiverFailureRate: number;
  /** 0: no backlog phase. */
  backlogSize: number;
  /** Where Hookline writes V8 CPU profiles (node --cpu-prof), one per process; null: not profiled. */
  profileDir: string | null;
}

export const usage = `npm run bench -- [options]

  --quick                    small sizes (3,000 events, 5 s of latency), about a minute
  --backlog                  also drain a backlog of 1,000,000 due deliveries (100,000 with --quick)
  --events <n>               events for the throughput phases, each to 2 webhooks (default 20000)
  --batch-size <n>           events per publishEvents call / enqueue transaction (default 500)
  --in-flight <n>            publish calls in flight at once (default 3)
  --rate <n>                 latency phase: events per second (default 200)
  --duration <s>             latency phase: seconds (default 20, 5 with --quick)
  --warmup <s>               latency phase: seconds at the same rate before measuring (default 3, 1 with --quick)
  --no-settle                no VACUUM and CHECKPOINT between the throughput and latency phases
  --concurrency <n>          requests in flight for the baseline and the limit script (default 64)
  --backlog-size <n>         backlog deliveries (implies --backlog)
  --receiver-delay-ms <n>    the receiver answers after this long (default 0)
  --receiver-failure-rate <x> share of requests the receiver answers with 500 (default 0)
  --profile-dir <dir>        write Hookline's CPU profiles there (node --cpu-prof; open in Chrome DevTools)
`;

function number(raw: string | undefined, name: string, fallback: number, check: (value: number) => boolean = (value) => Number.isInteger(value) && value > 0): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!check(value)) throw new Error(`--${name} "${raw}" is not valid\n\n${usage}`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      backlog: { type: 'boolean' },
      events: { type: 'string' },
      'batch-size': { type: 'string' },
      'in-flight': { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'no-settle': { type: 'boolean' },
      concurrency: { type: 'string' },
      'backlog-size': { type: 'string' },
      'receiver-delay-ms': { type: 'string' },
      'receiver-failure-rate': { type: 'string' },
      'profile-dir': { type: 'string' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const backlogWanted = (values.backlog ?? false) || values['backlog-size'] !== undefined;
  const batchSize = number(values['batch-size'], 'batch-size', 500);
  if (batchSize > 1000) throw new Error('--batch-size is at most 1000 (publishEvents takes at most 1,000 events)');
  return {
    quick,
    events: number(values.events, 'events', quick ? 3_000 : 20_000),
    batchSize,
    publishersInFlight: number(values['in-flight'], 'in-flight', 3),
    rate: number(values.rate, 'rate', 200),
    durationSeconds: number(values.duration, 'duration', quick ? 5 : 20),
    warmupSeconds: number(values.warmup, 'warmup', quick ? 1 : 3, (value) => Number.isInteger(value) && value >= 0),
    settle: !(values['no-settle'] ?? false),
    concurrency: number(values.concurrency, 'concurrency', 64),
    receiverDelayMs: number(values['receiver-delay-ms'], 'receiver-delay-ms', 0, (value) => Number.isInteger(value) && value >= 0),
    receiverFailureRate: number(values['receiver-failure-rate'], 'receiver-failure-rate', 0, (value) => value >= 0 && value < 1),
    backlogSize: backlogWanted ? number(values['backlog-size'], 'backlog-size', quick ? 100_000 : 1_000_000) : 0,
    profileDir: values['profile-dir'] ? path.resolve(values['profile-dir']) : null,
  };
}
