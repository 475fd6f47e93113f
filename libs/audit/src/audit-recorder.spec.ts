import type { Logger } from '@signet/observability';
import { SignetMetrics } from '@signet/observability';
import { createCapturingLogger } from '@signet/testing';

import { BufferedAuditRecorder } from './audit-recorder';
import type { AuditEventInput } from './audit-event';
import type { AuditOptions } from './options';
import { InMemoryAuditRepository } from './testing';

const event = (action: string): AuditEventInput => ({ type: 'admin', orgId: 'org_aaaaaaaaaaaa', actor: { kind: 'api_key', id: 'key_1' }, action, outcome: 'success' });
/** The capturing logger, with the `child` the recorder asks for. */
function capture() {
  const logs = createCapturingLogger();
  const logger = { ...logs, child: () => logger } as unknown as Logger;
  return { logs, logger };
}
const options = (bufferSize: number): AuditOptions => ({ retentionDays: 90, pruneIntervalMs: 0, flushMs: 0, bufferSize });

describe('BufferedAuditRecorder', () => {
  it('never throws to the caller: a failed write keeps the batch for the next flush', async () => {
    const repository = new InMemoryAuditRepository();
    const { logs, logger } = capture();
    const recorder = new BufferedAuditRecorder(repository, options(100), logger, new SignetMetrics());
    repository.failNextInsert = true;
    recorder.record(event('keys.create'));
    await recorder.flush();
    expect(repository.events).toHaveLength(0);
    expect(logs.find('could not write audit events', 'warn')).toHaveLength(1);
    await recorder.flush();
    expect(repository.events.map((e) => e.action)).toEqual(['keys.create']);
  });

  it('is bounded: beyond the buffer, events are dropped and counted', async () => {
    const repository = new InMemoryAuditRepository();
    const metrics = new SignetMetrics();
    const recorder = new BufferedAuditRecorder(repository, options(100), capture().logger, metrics);
    for (let i = 0; i < 150; i++) recorder.record(event(`a${i}`));
    await recorder.onApplicationShutdown();
    expect(repository.events).toHaveLength(100);
    expect(await metrics.registry.getSingleMetricAsString('signet_audit_dropped_total')).toContain('reason="buffer_full"} 50');
  });
});
