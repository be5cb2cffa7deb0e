import fs from 'node:fs';

/** VmRSS and VmHWM of a process in KiB, from /proc/<pid>/status; undefined once it is gone. */
export function readMemory(pid: number): { rssKib: number; hwmKib: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKib: field('VmRSS'), hwmKib: field('VmHWM') };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; undefined once it is gone. */
export function readCpuMs(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name: state is the 3rd field, utime the 14th, stime the 15th.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}

/**
 * CPU time of a process and its live descendants (`cairn api --processes N`
 * serves from children), plus what its reaped children used (cutime, cstime).
 */
export function readTreeCpuMs(pid: number): number | undefined {
  const own = readCpuMs(pid);
  if (own === undefined) return undefined;
  let reaped = 0;
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    reaped = ((Number(rest[13]) + Number(rest[14])) * 1000) / CLOCK_TICKS;
  } catch {
    /* gone meanwhile */
  }
  return own + reaped + childrenOf(pid).reduce((sum, c) => sum + (readTreeCpuMs(c) ?? 0), 0);
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** A process's children, from /proc/<pid>/task/<tid>/children (empty once it is gone). */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      out.push(...fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

/** VmRSS of a process and all its descendants, in KiB (cairn runs initdb in a child on a new data dir). */
export function readTreeRssKib(pid: number): number {
  let sum = 0;
  // A process that has exited but not been reaped has no VmRSS (NaN): it holds no memory.
  for (const p of [pid, ...childrenOf(pid)]) sum += p === pid ? readMemory(p)?.rssKib || 0 : readTreeRssKib(p);
  return sum;
}

/**
 * Samples a process's resident memory every `intervalMs` (100 ms by default).
 * `phase()` starts a new window; `peakSince()` gives the highest VmRSS sampled
 * in the current window, `hwm()` the kernel's high-water mark over the whole life.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private windowPeak = 0;
  private lastHwm = 0;
  private lastRss = 0;
  private treePeakKib = 0;

  /** `tree`: also sample the RSS of the process with its descendants (`treePeak()`). */
  /** `sumTree`: every figure is the process with its descendants together (`cairn api --processes N`). */
  constructor(
    readonly pid: number,
    private readonly intervalMs = 100,
    private readonly tree = false,
    private readonly sumTree = false,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    if (this.tree) this.treePeakKib = Math.max(this.treePeakKib, readTreeRssKib(this.pid));
    if (this.sumTree) {
      // Several processes serve together: their RSS is one figure, and its peak the high-water mark.
      const kib = readTreeRssKib(this.pid);
      if (!kib) return;
      this.lastRss = kib;
      this.lastHwm = Math.max(this.lastHwm, kib);
      this.windowPeak = Math.max(this.windowPeak, kib);
      return;
    }
    const m = readMemory(this.pid);
    if (!m) return;
    this.lastRss = m.rssKib;
    this.lastHwm = Math.max(this.lastHwm, m.hwmKib);
    this.windowPeak = Math.max(this.windowPeak, m.rssKib);
  }

  /** Starts a new measuring window; returns the peak of the one that ended. */
  phase(): number {
    this.sample();
    const peak = this.windowPeak;
    this.windowPeak = this.lastRss;
    return peak;
  }

  /** VmRSS right now (KiB). */
  current(): number {
    this.sample();
    return this.lastRss;
  }

  /** Highest VmRSS sampled in the current window (KiB). */
  peakSince(): number {
    this.sample();
    return this.windowPeak;
  }

  /** Highest RSS of the process and its descendants together, as sampled (KiB; only with `tree`). */
  treePeak(): number {
    this.sample();
    return this.treePeakKib;
  }

  /** Kernel high-water mark of the process's RSS over its whole life (KiB). */
  hwm(): number {
    this.sample();
    return this.lastHwm;
  }
}
