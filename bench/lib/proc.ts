import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Kernel clock ticks per second (USER_HZ) for /proc/<pid>/stat times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** A CPU-time stopwatch over one process, or over several together (a cluster's edges and its Redis). */
export class CpuMeter {
  private startEach: number[] = [];
  private startWall = 0;
  private readonly pids: readonly number[];
  constructor(pid: number | readonly number[]) {
    this.pids = typeof pid === 'number' ? [pid] : pid;
  }

  start(): void {
    this.startEach = this.pids.map(cpuSeconds);
    this.startWall = performance.now();
  }

  /** CPU seconds (all processes together, and each in the order given) and wall seconds since start(). */
  read(): { cpu: number; each: number[]; wall: number } {
    const each = this.pids.map((pid, i) => cpuSeconds(pid) - this.startEach[i]);
    return { cpu: each.reduce((sum, c) => sum + c, 0), each, wall: (performance.now() - this.startWall) / 1000 };
  }
}

export interface Pinning {
  /** Core list for the load generator (this process), or null when not pinned. */
  load: string | null;
  /** Core list for the systems under test, or null when not pinned. */
  system: string | null;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Load generator and systems under test on different cores when there are at
 * least two and `taskset` exists: the load generator on core 0, the systems on
 * the others. Pins this process (all its threads) right away.
 */
export function pinCores(): Pinning {
  const n = cpus().length;
  if (n < 2 || !hasTaskset()) return { load: null, system: null };
  const load = '0';
  const system = n === 2 ? '1' : `1-${n - 1}`;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', load, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return { load: null, system: null };
  }
  return { load, system };
}

/** Raises this process's open-file limit (children inherit it); needs root or a high hard limit. */
export function raiseFileLimit(want: number): number {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`], { stdio: 'ignore' });
  } catch {
    // Not permitted: keep what we have.
  }
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--noheadings', '--output=SOFT']).toString();
    return Number(out.trim()) || 0;
  } catch {
    return 0;
  }
}
