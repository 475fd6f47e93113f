import { InMemoryRevocationBus } from './in-memory-revocation-bus';
import { type Revocation, type RevocationLog, RevocationPublisher } from './publisher';
import { RevocationPublishTimeoutError } from './redis-revocation-bus';
import type { RevocationBus, RevocationBusHealth, RevocationEvent, RevocationHandler, RevocationLogger } from './types';

const T0 = 1_700_000_000_000;

/** A transaction of the fake log: entries and after-commit callbacks wait for commit(). */
class FakeTransaction {
  readonly appended: RevocationEvent[] = [];
  readonly afterCommit: (() => Promise<void>)[] = [];
  constructor(private readonly log: FakeRevocationLog) {}

  async commit(): Promise<void> {
    this.log.committed.push(...this.appended);
    // As the database's commit does: the caller's transaction settles after its follow-ups.
    for (const callback of this.afterCommit.splice(0)) await callback();
  }

  rollback(): void {
    this.appended.length = 0;
    this.afterCommit.length = 0;
  }
}

/** Stands in for the `revocations` table (RevocationStore). */
class FakeRevocationLog implements RevocationLog<FakeTransaction> {
  readonly committed: RevocationEvent[] = [];
  private seq = 0;

  begin(): FakeTransaction {
    return new FakeTransaction(this);
  }

  async append(tx: FakeTransaction, revocation: Revocation): Promise<RevocationEvent> {
    const event = { seq: ++this.seq, credentialIds: [...revocation.credentialIds], until: revocation.until, reason: revocation.reason, at: T0 };
    tx.appended.push(event);
    return event;
  }

  afterCommit(tx: FakeTransaction, callback: () => Promise<void>): void {
    tx.afterCommit.push(callback);
  }
}

/** A bus that never gets through: `publish` rejects after its own timeout, as the Redis bus does without Redis. */
class UnreachableBus implements RevocationBus {
  attempts = 0;
  constructor(readonly publishTimeoutMs: number) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  publish(event: RevocationEvent): Promise<void> {
    this.attempts++;
    return new Promise((_resolve, reject) => setTimeout(() => reject(new RevocationPublishTimeoutError(event.seq, this.publishTimeoutMs)), this.publishTimeoutMs));
  }
  subscribe(_handler: RevocationHandler): () => void {
    return () => undefined;
  }
  health(): RevocationBusHealth {
    return { connected: false, lastSyncAt: null, stale: true };
  }
}

function capturingLogger(): RevocationLogger & { errors: { fields: Record<string, unknown>; msg: string }[] } {
  const errors: { fields: Record<string, unknown>; msg: string }[] = [];
  return { errors, info: () => undefined, warn: () => undefined, error: (fields, msg) => errors.push({ fields, msg }) };
}

describe('RevocationPublisher', () => {
  let log: FakeRevocationLog;
  let bus: InMemoryRevocationBus;
  let published: RevocationEvent[];
  let publisher: RevocationPublisher<FakeTransaction>;

  beforeEach(async () => {
    log = new FakeRevocationLog();
    bus = new InMemoryRevocationBus({ now: () => T0 });
    await bus.start();
    published = [];
    bus.subscribe((event) => published.push(event));
    publisher = new RevocationPublisher({ bus, log, now: () => T0 });
  });
  afterEach(() => bus.close());

  const revocation = (credentialIds: string[], until = T0 + 60_000): Revocation => ({ credentialIds, until, reason: 'api_key_revoked', orgId: 'org_aaaaaaaaaaaa' });

  it('records in the caller’s transaction and publishes only after it commits', async () => {
    const tx = log.begin();
    const event = await publisher.record(tx, revocation(['key_a', 'key_b']));
    expect(event).toMatchObject({ seq: 1, credentialIds: ['key_a', 'key_b'], until: T0 + 60_000, reason: 'api_key_revoked' });
    expect(tx.appended).toEqual([event]);
    expect(published).toEqual([]);

    await tx.commit();
    expect(log.committed).toEqual([event]);
    expect(published).toEqual([event]);
  });

  it('publishes nothing when the transaction rolls back', async () => {
    const tx = log.begin();
    await publisher.record(tx, revocation(['key_a']));
    tx.rollback();
    await log.begin().commit();
    expect(log.committed).toEqual([]);
    expect(published).toEqual([]);
  });

  it('records nothing when there is nothing to enforce (no ids, or all expired)', async () => {
    const tx = log.begin();
    expect(await publisher.record(tx, revocation([]))).toBeNull();
    expect(await publisher.record(tx, revocation(['tok_old'], T0))).toBeNull();
    await tx.commit();
    expect(log.committed).toEqual([]);
    expect(published).toEqual([]);
  });

  it('publishes an event committed by a statement of the caller’s own', async () => {
    const event: RevocationEvent = { seq: 9, credentialIds: ['tok_a'], until: T0 + 1000, reason: 'token_revoked', at: T0 };
    await publisher.publishCommitted(event, 'org_aaaaaaaaaaaa');
    expect(published).toEqual([event]);
  });

  it('does not wait for the bus: the commit settles at once, and a publish that fails later is logged', async () => {
    const unreachable = new UnreachableBus(50);
    const logger = capturingLogger();
    const slow = new RevocationPublisher({ bus: unreachable, log, logger, now: () => T0 });
    const tx = log.begin();
    const event = await slow.record(tx, revocation(['key_a']));
    let settled = false;
    const commit = tx.commit().then(() => (settled = true));
    // One turn of the event loop, far less than the bus's 50 ms timeout.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
    await commit;
    expect(unreachable.attempts).toBe(1);
    expect(log.committed).toEqual([event]);
    expect(logger.errors).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logger.errors).toEqual([
      {
        msg: 'revocation committed but not published yet; the outbox relay will publish it',
        fields: expect.objectContaining({ seq: 1, reason: 'api_key_revoked', count: 1, orgId: 'org_aaaaaaaaaaaa', err: expect.any(RevocationPublishTimeoutError) }),
      },
    ]);
  });

  it('never throws from publishCommitted, whatever the bus does', async () => {
    await bus.close();
    const logger = capturingLogger();
    const closed = new RevocationPublisher({ bus, log, logger });
    await expect(closed.publishCommitted({ seq: 1, credentialIds: ['tok_a'], until: T0 + 1000, reason: 'token_revoked', at: T0 })).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.errors).toHaveLength(1);
  });
});
