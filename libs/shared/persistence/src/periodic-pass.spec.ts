import { PeriodicPass, type PeriodicSchedule } from './periodic-pass';

type Body<T> = (nowMs: number, stopping: () => boolean) => Promise<T>;
/** A PeriodicPass whose pass is `pass`, as a job subclass would be. */
const periodic = <T>({ pass, ...schedule }: PeriodicSchedule<T> & { pass: Body<T> }): PeriodicPass<T> =>
  new (class extends PeriodicPass<T> {
    protected pass(nowMs: number, stopping: () => boolean): Promise<T> {
      return pass(nowMs, stopping);
    }
  })(schedule);

const quiet = () => {
  const warnings: string[] = [];
  return { warnings, logger: { info: () => undefined, warn: (_o: object, msg?: string) => void warnings.push(msg ?? ''), error: () => undefined } };
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PeriodicPass', () => {
  it('runs passes one after the other, never two at once, and shares a pass asked for while one runs', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    const { logger } = quiet();
    const job = periodic({
      intervalMs: 5,
      pass: async () => {
        most = Math.max(most, ++running);
        await tick(15);
        running--;
        return ++passes;
      },
      failed: -1,
      logger,
      name: 'test pass',
    });
    job.onModuleInit();
    const [a, b] = await Promise.all([job.run(), job.run()]);
    expect(a).toBe(b);
    await tick(80);
    await job.onModuleDestroy();
    expect(most).toBe(1);
    expect(passes).toBeGreaterThan(2);
    const after = passes;
    await tick(40);
    expect(passes).toBe(after);
  });

  it('logs a failed pass by its name, yields `failed`, and runs the next one', async () => {
    let calls = 0;
    const { logger, warnings } = quiet();
    const job = periodic({
      intervalMs: 5,
      pass: () => (++calls === 1 ? Promise.reject(new Error('database down')) : Promise.resolve(calls)),
      failed: 0,
      logger,
      name: 'test pass',
    });
    expect(await job.run()).toBe(0);
    expect(warnings).toEqual(['test pass failed; retrying on the next one']);
    expect(await job.run()).toBe(2);
    await job.onModuleDestroy();
  });

  it('stop waits for the running pass and tells it to stop between batches', async () => {
    let batches = 0;
    const { logger } = quiet();
    const job = periodic({
      intervalMs: 0,
      pass: async (_now, stopping) => {
        while (!stopping()) {
          batches++;
          await tick(2);
        }
        return batches;
      },
      failed: 0,
      logger,
      name: 'test pass',
    });
    job.onModuleInit();
    const pass = job.run();
    await tick(20);
    await job.onModuleDestroy();
    const done = batches;
    expect(await pass).toBe(done);
    expect(done).toBeGreaterThan(0);
  });

  it('is never scheduled with an interval of 0', async () => {
    let passes = 0;
    const { logger } = quiet();
    const job = periodic({ intervalMs: 0, firstDelayMs: 1, pass: async () => ++passes, failed: 0, logger, name: 'test pass' });
    job.onModuleInit();
    await tick(30);
    expect(passes).toBe(0);
    await job.onModuleDestroy();
  });
});
