/** One collection of a `--trace-gc` line: its pause on the main thread and, for a full GC, the biggest incremental-marking step before it. */
export interface GcEvent {
  /** The isolate (`0x…`): the main thread's, or a worker's. */
  isolate: string;
  kind: string;
  pauseMs: number;
  biggestStepMs: number;
}

// `[pid:0x…]  296 ms: Mark-Compact 67.3 (92.3) -> 52.8 (87.4) MB, 59.42 / 0.00 ms  (+ 7.5 ms in 7 steps since start of marking, biggest step 7.3 ms, …`
const LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Minor Mark-Sweep|Mark-Compact(?: \(reduce\))?|Mark-Sweep)\b[^,]*MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ [\d.]+ ms in \d+ steps since start of marking, biggest step ([\d.]+) ms)?/;

export function parseGcLine(line: string): GcEvent | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { isolate: m[1]!, kind: m[2]!, pauseMs: Number(m[3]), biggestStepMs: m[4] === undefined ? 0 : Number(m[4]) };
}

/** The longest time one collection held the main thread: its final pause or its biggest marking step. */
export const longestHold = (e: GcEvent): number => Math.max(e.pauseMs, e.biggestStepMs);

/**
 * Collects the GCs of a process's `--trace-gc` output as it arrives, in chunks cut anywhere. The main
 * thread's isolate is the first one seen (module loading collects long before any worker starts);
 * workers' collections (the embedded database's thread) do not stop the main thread and are kept apart.
 */
export class GcTrace {
  private partial = '';
  private main: string | null = null;
  events: GcEvent[] = [];
  workerEvents: GcEvent[] = [];

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseGcLine(line);
      if (!event) continue;
      this.main ??= event.isolate;
      (event.isolate === this.main ? this.events : this.workerEvents).push(event);
    }
  }

  /** Forgets the collections so far (the start-up's are not the measurement's). */
  reset(): void {
    this.events = [];
    this.workerEvents = [];
  }

  /** The main thread's collections: how many, the longest hold, how many held it longer than `overMs`. */
  summary(overMs: number, events = this.events): { count: number; maxMs: number; over: number } {
    const holds = events.map(longestHold);
    return { count: holds.length, maxMs: holds.length === 0 ? 0 : Math.max(...holds), over: holds.filter((h) => h > overMs).length };
  }
}
