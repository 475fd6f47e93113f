/**
 * The contract every RevocationBus implementation must meet, run against the
 * in-process bus and against the Redis bus on the machine's real Redis.
 */
import { createCapturingLogger, deleteRedisKeys, redisUrl, uniquePrefix, waitFor } from '@signet/testing';
import { InMemoryRevocationBus } from './in-memory-revocation-bus';
import { RedisRevocationBus } from './redis-revocation-bus';
import type { RevocationBus, RevocationEvent, RevocationSource } from './types';

/** Stands in for the PostgreSQL `revocations` table. */
class CommittedRevocations implements RevocationSource {
  readonly events: RevocationEvent[] = [];
  async listActive(nowMs: number): Promise<RevocationEvent[]> {
    return this.events.filter((e) => e.until > nowMs);
  }
}

interface Harness {
  publisher: RevocationBus;
  /** Another consumer of the bus (for Redis: another process-like bus instance), started. */
  newSubscriber(): Promise<RevocationBus>;
  close(): Promise<void>;
}

const factories: [string, () => Promise<Harness>][] = [
  [
    'InMemoryRevocationBus',
    async () => {
      const bus = new InMemoryRevocationBus();
      await bus.start();
      return { publisher: bus, newSubscriber: async () => bus, close: () => bus.close() };
    },
  ],
  [
    'RedisRevocationBus',
    async () => {
      const keyPrefix = uniquePrefix('bus-contract');
      const logger = createCapturingLogger();
      const buses: RedisRevocationBus[] = [];
      const common = { url: redisUrl(), keyPrefix, logger, pollIntervalMs: 50, rebuildCheckIntervalMs: 100 };
      const publisher = new RedisRevocationBus({ ...common, role: 'publisher', source: new CommittedRevocations() });
      buses.push(publisher);
      await publisher.start();
      return {
        publisher,
        newSubscriber: async () => {
          const bus = new RedisRevocationBus({ ...common, role: 'subscriber' });
          buses.push(bus);
          await bus.start();
          return bus;
        },
        close: async () => {
          await Promise.all(buses.map((b) => b.close()));
          await deleteRedisKeys(keyPrefix);
        },
      };
    },
  ],
];

let seq = 0;
function revocation(ids: string[] = [`tok_${++seq}`]): RevocationEvent {
  const now = Date.now();
  return { seq: ++seq, credentialIds: ids, until: now + 3_600_000, reason: 'token_revoked', at: now };
}

describe.each(factories)('%s (RevocationBus contract)', (_name, create) => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await create();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('delivers a published revocation to a subscriber', async () => {
    const subscriber = await harness.newSubscriber();
    const seen: RevocationEvent[] = [];
    subscriber.subscribe((e) => seen.push(e));
    const event = revocation(['tok_a', 'key_b']);
    await harness.publisher.publish(event);
    await waitFor(() => seen.length > 0);
    expect(seen).toEqual([event]);
  });

  it('delivers to every subscriber and every handler', async () => {
    const first = await harness.newSubscriber();
    const second = await harness.newSubscriber();
    const seen: string[][] = [[], [], []];
    first.subscribe((e) => seen[0]!.push(e.credentialIds[0]!));
    first.subscribe((e) => seen[1]!.push(e.credentialIds[0]!));
    second.subscribe((e) => seen[2]!.push(e.credentialIds[0]!));
    await harness.publisher.publish(revocation(['tok_1']));
    await harness.publisher.publish(revocation(['tok_2']));
    await waitFor(() => seen.every((s) => s.length >= 2));
    for (const s of seen) expect([...new Set(s)].sort()).toEqual(['tok_1', 'tok_2']);
  });

  it('gives a subscriber that comes late every earlier revocation', async () => {
    const events = [revocation(), revocation(), revocation()];
    for (const event of events) await harness.publisher.publish(event);
    const subscriber = await harness.newSubscriber();
    const seen = new Map<number, RevocationEvent>();
    subscriber.subscribe((e) => seen.set(e.seq, e));
    // Active events are replayed synchronously within subscribe().
    expect([...seen.values()]).toEqual(events);
  });

  it('stops delivering to an unsubscribed handler', async () => {
    const subscriber = await harness.newSubscriber();
    const kept: number[] = [];
    const dropped: number[] = [];
    subscriber.subscribe((e) => kept.push(e.seq));
    const unsubscribe = subscriber.subscribe((e) => dropped.push(e.seq));
    unsubscribe();
    const event = revocation();
    await harness.publisher.publish(event);
    await waitFor(() => kept.includes(event.seq));
    expect(dropped).toEqual([]);
  });

  it('reports itself connected and fresh once started', async () => {
    const subscriber = await harness.newSubscriber();
    const health = await waitFor(() => {
      const h = subscriber.health();
      return h.connected && !h.stale ? h : null;
    });
    expect(health.lastSyncAt).not.toBeNull();
  });

  it('rejects malformed events', async () => {
    const bad = { seq: 1, credentialIds: [], until: Date.now(), reason: 'x', at: Date.now() };
    await expect(harness.publisher.publish(bad)).rejects.toThrow(TypeError);
  });
});
