import type { RawClient } from './client';
import { CpuMeter } from './proc';
import { sleep } from './scenario';

/**
 * End-to-end flow control for QoS 0 load: publishers stop when more than
 * `window` deliveries are outstanding, so a broker is measured at its pace
 * rather than flooded into dropping. Deliveries the broker dropped are written
 * off when nothing arrives for a while.
 */
export class Flow {
  expected = 0;
  received = 0;
  private writtenOff = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly window: number) {}

  outstanding(): number {
    return this.expected - this.received - this.writtenOff;
  }

  /** Counts what `client` received since the last call (hook it to onChunk). */
  track(client: RawClient): void {
    let last = client.received;
    client.onChunk = () => {
      this.received += client.received - last;
      last = client.received;
      if (this.waiters.length > 0 && this.outstanding() < this.window / 2) this.wake();
    };
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for room in the window; after 100 ms without it, writes off what is missing. */
  async room(): Promise<void> {
    if (this.outstanding() < this.window) return;
    const before = this.received;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.received === before && this.outstanding() >= this.window) this.writtenOff = this.expected - this.received;
  }
}

/**
 * Sends `batch` (several PUBLISH frames, `perBatch` deliveries each) as fast as
 * the flow and the socket allow, until stopped.
 */
export class Pump {
  private running = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: RawClient,
    private readonly makeBatch: () => Buffer,
    private readonly deliveriesPerBatch: number,
    private readonly flow: Flow,
  ) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.flow.wake();
    await this.done;
  }

  private async loop(): Promise<void> {
    let n = 0;
    while (this.running && !this.client.isClosed) {
      await this.flow.room();
      if (!this.running) break;
      this.flow.expected += this.deliveriesPerBatch;
      if (!this.client.send(this.makeBatch())) await this.client.drained();
      else if (++n % 8 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  }
}

/** `count` copies of `frame` in one buffer. */
export function repeat(frame: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** CPU seconds of each measured process (in the order given) and what was counted, over the measured window. */
export type CpuSplit = (cpuEach: readonly number[], counted: number) => void;

/**
 * Runs load, waits `warmupMs`, then measures `count()` per CPU-second of the
 * system under test over `durationMs` (`split` is told how that CPU divides between its processes).
 */
export async function perCpuSecond(
  pid: number | readonly number[],
  durationMs: number,
  warmupMs: number,
  start: () => void,
  stop: () => Promise<void>,
  count: () => number,
  split?: CpuSplit,
): Promise<number | null> {
  const meter = new CpuMeter(pid);
  start();
  try {
    await sleep(warmupMs);
    meter.start();
    const c0 = count();
    await sleep(durationMs);
    const c1 = count();
    const { cpu, each } = meter.read();
    split?.(each, c1 - c0);
    return cpu > 0 ? (c1 - c0) / cpu : null;
  } finally {
    await stop();
  }
}
