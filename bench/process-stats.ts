/**
 * CPU time and memory of the processes under test, read from /proc (Linux only): the only
 * way to see a process's own cost from outside it, without instrumenting it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function readClockTicksPerSecond(): number {
  try {
    return Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }), 10) || 100;
  } catch {
    return 100;
  }
}

/** /proc/<pid>/stat counts CPU time in clock ticks. */
const clockTicksPerSecond = readClockTicksPerSecond();

/** The fields after the command name, which is in parentheses and may itself hold spaces. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const ticksToMs = (ticks: number) => (ticks * 1000) / clockTicksPerSecond;

// Offsets into statFields(): field N of proc(5) is at N - 3.
const parentPidField = 1;
const userTimeField = 11;
const systemTimeField = 12;
const childrenUserTimeField = 13;
const childrenSystemTimeField = 14;

/** User + system CPU time the process has used so far, in ms. */
export function cpuTimeMs(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone: cannot read its CPU time`);
  return ticksToMs(Number(fields[userTimeField]) + Number(fields[systemTimeField]));
}

export interface Memory {
  /** Resident now (VmRSS). */
  rssMb: number;
  /** The most it has been resident (VmHWM). */
  peakRssMb: number;
}

export function memory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
    return { rssMb: kilobytes('VmRSS') / 1024, peakRssMb: kilobytes('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function childrenOf(parentPid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[parentPidField]) === parentPid) children.push(Number(entry));
  }
  return children;
}

/** The embedded PostgreSQL's postmaster: a `postgres` child of this process. */
export function findOwnPostmaster(): number | null {
  for (const pid of childrenOf(process.pid)) {
    const command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (command === 'postgres') return pid;
  }
  return null;
}

/**
 * CPU time of a whole PostgreSQL server: the postmaster, the backends it has already reaped
 * (counted in its children's times) and the ones still running. Phases run one after
 * another, so the difference over a phase is that phase's database cost.
 */
export function postgresCpuTimeMs(postmasterPid: number): number {
  const fields = statFields(postmasterPid);
  if (!fields) throw new Error(`PostgreSQL (pid ${postmasterPid}) is gone`);
  let ticks = [userTimeField, systemTimeField, childrenUserTimeField, childrenSystemTimeField].reduce((sum, field) => sum + Number(fields[field]), 0);
  for (const child of childrenOf(postmasterPid)) {
    const childFields = statFields(child);
    if (childFields) ticks += Number(childFields[userTimeField]) + Number(childFields[systemTimeField]);
  }
  return ticksToMs(ticks);
}

/** The machine's CPU ticks so far, all cores: idle (idle and iowait) and in all. */
function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const counted = fields.slice(0, 8);
  return { idle: counted[3]! + counted[4]!, total: counted.reduce((sum, value) => sum + value, 0) };
}

export interface ResourceReading {
  cpuMs: number;
  /** Share of the machine's CPU time (all cores) that nobody used over the phase. */
  machineIdleShare: number;
  /** null when the database server is not ours to see (DATABASE_URL). */
  postgresCpuMs: number | null;
  /** Resident set samples, one per interval. */
  rssSamplesMb: number[];
  maximumRssMb: number;
  peakRssMb: number;
}

/**
 * Measures one process over a phase: CPU time from start to stop, and resident memory
 * sampled on an interval (the peak, VmHWM, only ever grows, so the samples show the trend).
 */
export class ResourceMeter {
  private readonly cpuAtStart: number;
  private readonly postgresCpuAtStart: number | null;
  private readonly machineAtStart = machineTicks();
  private readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    private readonly postmasterPid: number | null,
    sampleIntervalMs: number,
  ) {
    this.cpuAtStart = cpuTimeMs(pid);
    this.postgresCpuAtStart = postmasterPid === null ? null : postgresCpuTimeMs(postmasterPid);
    this.sample();
    this.timer = setInterval(() => this.sample(), sampleIntervalMs);
  }

  private sample(): void {
    const reading = memory(this.pid);
    if (reading) this.samples.push(reading.rssMb);
  }

  stop(): ResourceReading {
    clearInterval(this.timer);
    this.sample();
    const machine = machineTicks();
    return {
      cpuMs: cpuTimeMs(this.pid) - this.cpuAtStart,
      machineIdleShare: (machine.idle - this.machineAtStart.idle) / Math.max(1, machine.total - this.machineAtStart.total),
      postgresCpuMs: this.postmasterPid === null || this.postgresCpuAtStart === null ? null : postgresCpuTimeMs(this.postmasterPid) - this.postgresCpuAtStart,
      rssSamplesMb: this.samples,
      maximumRssMb: Math.max(...this.samples),
      peakRssMb: memory(this.pid)?.peakRssMb ?? Math.max(...this.samples),
    };
  }
}

/** A phase's resource columns in the report, from its meter's reading. */
export function resourceColumns(reading: ResourceReading): { cpuMs: number; postgresCpuMs: number | null; machineIdleShare: number; rssMb: number } {
  return { cpuMs: reading.cpuMs, postgresCpuMs: reading.postgresCpuMs, machineIdleShare: reading.machineIdleShare, rssMb: reading.maximumRssMb };
}
