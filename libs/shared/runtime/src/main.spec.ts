import { waitFor } from '@signet/testing';

import { runMain } from './main';
import type { Readiness, SignetProcess } from './process';

/** runMain says "is ready" only when the process's readiness (what /readyz answers) agrees. */
describe('runMain', () => {
  const written: string[] = [];
  let before: { SIGINT: NodeJS.SignalsListener[]; SIGTERM: NodeJS.SignalsListener[] };

  beforeEach(() => {
    written.length = 0;
    before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    // runMain installs its stop handlers on this (jest's) process: take them off again.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.off(signal, l);
    }
  });

  const processWith = (readiness?: () => Promise<Readiness>): SignetProcess => ({
    banner: ['  HTTP API   http://localhost:8080'],
    ports: {},
    bus: {} as SignetProcess['bus'],
    readiness,
    close: async () => undefined,
  });

  it('prints "is ready" and the banner at once when ready', async () => {
    await runMain('svc', async () => processWith(async () => ({ ready: true, checks: {} })));
    expect(written).toEqual(['svc is ready\n  HTTP API   http://localhost:8080\n']);
  });

  it('says what it waits for, then "is ready" once the checks pass', async () => {
    let ready = false;
    const readiness = async (): Promise<Readiness> => ({
      ready,
      checks: { revocation_bus: ready ? { ok: true } : { ok: false, detail: 'stale' }, database: { ok: true } },
    });
    await runMain('svc', async () => processWith(readiness));
    expect(written).toEqual(['svc is listening, not ready yet: waiting for revocation_bus (stale)\n  HTTP API   http://localhost:8080\n']);
    ready = true;
    await waitFor(() => written.includes('svc is ready\n'), { timeoutMs: 5000, intervalMs: 50 });
    expect(written).toHaveLength(2);
  });
});
