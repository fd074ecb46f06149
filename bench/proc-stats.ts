// Reads a process's own accounting from /proc: CPU time (all threads) and resident memory.
// The server's CPU per delivery is taken from here, so it holds even when the load generator saturates.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { openFileLimit as processFileLimit } from '../src/cli/file-limit.js';

let ticksPerSecond = 0;

/** Clock ticks per second (USER_HZ), used to convert utime/stime to microseconds. */
export function clockTicks(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of every thread of `pid`, in microseconds (resolution: one clock tick, 10 ms). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may contain spaces; everything after the last ')' is fixed-format.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

/** Resident set size of `pid` in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

/** The soft RLIMIT_NOFILE of `pid` (how many descriptors it may hold). */
export function openFileLimit(pid: number | 'self' = 'self'): number {
  return processFileLimit(pid)?.soft ?? Number.NaN;
}

/** A CPU reading taken at the edge of a measurement window. */
export interface CpuMark {
  readonly at: number;
  /** CLOCK_MONOTONIC in µs: the clock of V8's .cpuprofile timestamps, to cut a profile to a window. */
  readonly monoUs: number;
  readonly server: number;
  readonly loadgen: number;
}

export function markCpu(serverPid: number, loadgenPid: number): CpuMark {
  return {
    at: performance.now(),
    monoUs: Number(process.hrtime.bigint() / 1000n),
    server: cpuMicros(serverPid),
    loadgen: cpuMicros(loadgenPid),
  };
}

/** CPU spent by each process between two marks, and the wall time between them. */
export interface CpuWindow {
  readonly wallMs: number;
  readonly startMonoUs: number;
  readonly endMonoUs: number;
  readonly serverUs: number;
  readonly loadgenUs: number;
}

export function cpuBetween(start: CpuMark, end: CpuMark): CpuWindow {
  return {
    wallMs: end.at - start.at,
    startMonoUs: start.monoUs,
    endMonoUs: end.monoUs,
    serverUs: end.server - start.server,
    loadgenUs: end.loadgen - start.loadgen,
  };
}

/** The whole machine's CPU time from /proc/stat (all cores, every process, ours or not), in µs. */
export interface MachineCpu {
  readonly busyUs: number;
  readonly stealUs: number;
  readonly totalUs: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const toUs = (ticks: number): number => (ticks * 1e6) / clockTicks();
  const busy = user + nice + system + irq + softirq;
  return { busyUs: toUs(busy), stealUs: toUs(steal), totalUs: toUs(busy + idle + iowait + steal) };
}

/**
 * The kernel's TCP counters of the whole machine (/proc/net/netstat, TcpExt): how often a listen
 * queue overflowed (a connection was dropped before the server could accept it) and how many SYNs
 * were sent again. Machine-wide: the neighbours on a shared VM count too.
 */
export interface TcpCounters {
  readonly listenOverflows: number;
  readonly synRetransmits: number;
}

export function tcpCounters(): TcpCounters {
  try {
    const lines = readFileSync('/proc/net/netstat', 'latin1').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = (lines[0] ?? '').trim().split(/\s+/);
    const values = (lines[1] ?? '').trim().split(/\s+/).map(Number);
    const get = (name: string): number => values[names.indexOf(name)] ?? Number.NaN;
    return { listenOverflows: get('ListenOverflows'), synRetransmits: get('TCPSynRetrans') };
  } catch {
    return { listenOverflows: Number.NaN, synRetransmits: Number.NaN };
  }
}
