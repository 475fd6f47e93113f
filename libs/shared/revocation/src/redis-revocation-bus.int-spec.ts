/**
 * Redis-only guarantees, against the machine's real Redis: an edge cut off
 * from Redis, started late, or facing a Redis that lost its data still learns
 * every revocation; staleness is reported. Connections are cut with a TcpProxy
 * so the shared Redis itself is never disturbed.
 */
import Redis from 'ioredis';
import {
  createCapturingLogger,
  deleteRedisKeys,
  redisUrl,
  TcpProxy,
  uniquePrefix,
  waitFor,
  type CapturingLogger,
} from '@signet/testing';
import { RedisRevocationBus, RevocationPublishTimeoutError, type RedisRevocationBusOptions } from './redis-revocation-bus';
import type { RevocationEvent, RevocationSource } from './types';

/** Stands in for the PostgreSQL `revocations` table, and its outbox (`published_at`). */
class CommittedRevocations implements RevocationSource {
  readonly events: RevocationEvent[] = [];
  readonly published = new Set<number>();
  calls = 0;
  commit(event: RevocationEvent): RevocationEvent {
    this.events.push(event);
    return event;
  }
  async listActive(nowMs: number): Promise<RevocationEvent[]> {
    this.calls++;
    return this.events.filter((e) => e.until > nowMs);
  }
  async listUnpublished(limit: number): Promise<RevocationEvent[]> {
    return this.events.filter((e) => !this.published.has(e.seq)).slice(0, limit);
  }
  async markPublished(seqs: readonly number[]): Promise<void> {
    for (const s of seqs) this.published.add(s);
  }
}

let seq = 1000;
function revocation(id = `tok_${seq + 1}`): RevocationEvent {
  const now = Date.now();
  return { seq: ++seq, credentialIds: [id], until: now + 3_600_000, reason: 'token_revoked', at: now };
}

describe('RedisRevocationBus', () => {
  let keyPrefix: string;
  let logger: CapturingLogger;
  let admin: Redis;
  const buses: RedisRevocationBus[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(() => {
    admin = new Redis(redisUrl());
  });
  afterAll(() => admin.disconnect());

  beforeEach(() => {
    keyPrefix = uniquePrefix('revocation');
    logger = createCapturingLogger();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await deleteRedisKeys(keyPrefix);
  });

  /** Fast timings so outages and recoveries happen within a test's patience. */
  async function bus(options: Partial<RedisRevocationBusOptions> & Pick<RedisRevocationBusOptions, 'role'>): Promise<RedisRevocationBus> {
    const b = new RedisRevocationBus({
      url: redisUrl(),
      keyPrefix,
      logger,
      pollIntervalMs: 50,
      rebuildCheckIntervalMs: 100,
      reconnectMaxDelayMs: 100,
      commandTimeoutMs: 1000,
      startTimeoutMs: 3000,
      ...options,
    });
    buses.push(b);
    await b.start();
    return b;
  }

  async function proxy(): Promise<TcpProxy> {
    const p = TcpProxy.forUrl(redisUrl());
    proxies.push(p);
    await p.start();
    return p;
  }

  function collect(b: RedisRevocationBus): Map<number, RevocationEvent> {
    const seen = new Map<number, RevocationEvent>();
    b.subscribe((e) => seen.set(e.seq, e));
    return seen;
  }

  it('uses the documented keys and message shapes', async () => {
    const source = new CommittedRevocations();
    const publisher = await bus({ role: 'publisher', source });
    expect(publisher.streamKey).toBe(`${keyPrefix}revocations`);
    const listener = admin.duplicate();
    const messages: string[] = [];
    await listener.subscribe(`${keyPrefix}revocations`);
    listener.on('message', (_c: string, m: string) => messages.push(m));
    try {
      const event = revocation();
      await publisher.publish(event);
      const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
      expect(entries).toHaveLength(1);
      const [id, fields] = entries[0]!;
      expect(fields).toEqual(['e', JSON.stringify(event)]);
      await waitFor(() => messages.length > 0);
      expect(JSON.parse(messages[0]!)).toEqual({ id, e: event });
      // A publisher with a source initialises the epoch on start.
      expect(await admin.get(`${keyPrefix}revocations:epoch`)).toEqual(expect.any(String));
    } finally {
      listener.disconnect();
    }
  });

  it('replays what was published while the subscriber was cut off', async () => {
    const publisher = await bus({ role: 'publisher', source: new CommittedRevocations() });
    const link = await proxy();
    const subscriber = await bus({ role: 'subscriber', url: link.urlFor(redisUrl()) });
    const seen = collect(subscriber);
    await waitFor(() => subscriber.health().connected && !subscriber.health().stale);

    link.cut();
    await waitFor(() => !subscriber.health().connected);
    const missed = [revocation(), revocation()];
    for (const event of missed) await publisher.publish(event);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.size).toBe(0); // pub/sub could not reach it

    link.restore();
    await waitFor(() => seen.size === 2, { timeoutMs: 5000, message: 'replay after reconnect' });
    expect([...seen.values()]).toEqual(missed);
    expect(logger.find('lost its Redis connection', 'warn').length).toBeGreaterThan(0);
    expect(logger.find('reconnected to Redis', 'info').length).toBeGreaterThan(0);
  });

  it('gives a subscriber started after the publishes every earlier revocation', async () => {
    const publisher = await bus({ role: 'publisher', source: new CommittedRevocations() });
    const events = [revocation(), revocation(), revocation()];
    for (const event of events) await publisher.publish(event);
    const late = await bus({ role: 'subscriber' });
    expect([...collect(late).values()]).toEqual(events);
    const after = revocation();
    await publisher.publish(after);
    const seen = collect(late);
    await waitFor(() => seen.has(after.seq));
  });

  it('rebuilds from the source after Redis lost its data, including what a cut-off edge never saw', async () => {
    const source = new CommittedRevocations();
    const publisher = await bus({ role: 'publisher', source });
    const link = await proxy();
    const edge = await bus({ role: 'subscriber', url: link.urlFor(redisUrl()) });
    const seen = collect(edge);
    const before = [source.commit(revocation()), source.commit(revocation())];
    for (const event of before) await publisher.publish(event);
    await waitFor(() => seen.size === 2);
    const epochBefore = await admin.get(`${keyPrefix}revocations:epoch`);

    // The edge is cut off; a revocation is committed and published; then Redis loses everything.
    link.cut();
    await waitFor(() => !edge.health().connected);
    const unseen = source.commit(revocation());
    await publisher.publish(unseen);
    await deleteRedisKeys(keyPrefix);

    await waitFor(async () => {
      const epoch = await admin.get(`${keyPrefix}revocations:epoch`);
      return epoch !== null && epoch !== epochBefore;
    }, { message: 'publisher rebuilt the stream and set a new epoch' });
    const rebuilt = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(rebuilt.map(([, fields]) => JSON.parse(fields[1]!).seq)).toEqual([...before, unseen].map((e) => e.seq));
    expect(logger.find('rebuilt', 'warn').length).toBeGreaterThan(0);

    link.restore();
    await waitFor(() => seen.has(unseen.seq), { message: 'edge replays the rebuilt stream' });
    expect(logger.find('replaying it from the start').length).toBeGreaterThan(0);

    // A brand-new edge gets the whole rebuilt state too.
    const fresh = await bus({ role: 'subscriber' });
    expect([...collect(fresh).keys()]).toEqual([...before, unseen].map((e) => e.seq));
  });

  it('keeps a connected subscriber whole across a data loss it observes live', async () => {
    const source = new CommittedRevocations();
    const publisher = await bus({ role: 'publisher', source });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    await publisher.publish(source.commit(revocation()));
    await waitFor(() => seen.size === 1);
    await deleteRedisKeys(keyPrefix);
    const during = source.commit(revocation());
    await publisher.publish(during);
    await waitFor(() => seen.has(during.seq));
    await waitFor(() => logger.find('replaying it from the start').length > 0, { message: 'edge saw the new epoch' });
    expect(edge.health().stale).toBe(false);
  });

  it('replays from the start on a new epoch even when the new stream ids are below its cursor', async () => {
    // E.g. a failover to a Redis whose clock is behind: the rebuilt stream's ids sort before what the edge read.
    const publisher = await bus({ role: 'publisher', source: new CommittedRevocations() });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    await publisher.publish(revocation());
    await waitFor(() => seen.size === 1);
    await buses[0]!.close();

    await deleteRedisKeys(keyPrefix);
    const restored = revocation();
    await admin.xadd(`${keyPrefix}revocations`, '1-1', 'e', JSON.stringify(restored));
    await admin.set(`${keyPrefix}revocations:epoch`, 'rebuilt-elsewhere');
    await waitFor(() => seen.has(restored.seq), { message: 'full replay on epoch change' });
  });

  it('replays from the start when the stream went backwards under an unchanged epoch', async () => {
    const publisher = await bus({ role: 'publisher', source: new CommittedRevocations() });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    await publisher.publish(revocation());
    await waitFor(() => seen.size === 1);
    await buses[0]!.close();

    // An old snapshot came back: same epoch, but an older, different stream.
    await admin.del(`${keyPrefix}revocations`);
    const old = revocation();
    await admin.xadd(`${keyPrefix}revocations`, '1-1', 'e', JSON.stringify(old));
    await waitFor(() => seen.has(old.seq), { message: 'full replay on regression' });
    expect(logger.find('went backwards', 'warn').length).toBeGreaterThan(0);
  });

  it('turns stale after maxStalenessMs without Redis, says so, and recovers', async () => {
    await bus({ role: 'publisher', source: new CommittedRevocations() });
    const link = await proxy();
    const edge = await bus({ role: 'subscriber', url: link.urlFor(redisUrl()), maxStalenessMs: 400 });
    await waitFor(() => !edge.health().stale);

    const cutAt = Date.now();
    link.cut();
    await waitFor(() => !edge.health().connected);
    expect(edge.health().stale).toBe(false); // still within the bound
    const stale = await waitFor(() => (edge.health().stale ? edge.health() : null), { timeoutMs: 3000 });
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(400 - 100); // lastSyncAt is at most one poll before the cut
    expect(stale.connected).toBe(false);
    expect(stale.lastSyncAt).not.toBeNull();
    await waitFor(() => logger.find('STALE', 'error').length > 0);

    link.restore();
    await waitFor(() => !edge.health().stale && edge.health().connected, { timeoutMs: 5000 });
    await waitFor(() => logger.find('in sync', 'info').length > 0);
  });

  it('stays stale while no source-backed publisher has initialised the stream, yet still delivers', async () => {
    const publisher = await bus({ role: 'publisher' });
    const edge = await bus({ role: 'subscriber', maxStalenessMs: 200 });
    const seen = collect(edge);
    const event = revocation();
    await publisher.publish(event);
    await waitFor(() => seen.has(event.seq));
    expect(edge.health()).toMatchObject({ connected: true, stale: true, lastSyncAt: null });

    await bus({ role: 'publisher', source: new CommittedRevocations() }); // initialises the epoch
    await waitFor(() => !edge.health().stale);
  });

  it('queues a publish while Redis is unreachable and delivers it once back', async () => {
    const link = await proxy();
    const publisher = await bus({ role: 'publisher', url: link.urlFor(redisUrl()), publishTimeoutMs: 200 });
    const edge = await bus({ role: 'subscriber', requireEpoch: false });
    const seen = collect(edge);

    link.cut();
    await waitFor(() => !publisher.health().connected);
    const event = revocation();
    await expect(publisher.publish(event)).rejects.toBeInstanceOf(RevocationPublishTimeoutError);

    link.restore();
    await waitFor(() => seen.has(event.seq), { timeoutMs: 5000, message: 'queued revocation published after reconnect' });
  });

  it('re-publishes on start what was committed but never published', async () => {
    const source = new CommittedRevocations();
    await bus({ role: 'publisher', source });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    const published = source.commit(revocation());
    await buses[0]!.publish(published);
    // Committed in PostgreSQL, then the process died before publishing:
    const orphan = source.commit(revocation());

    await bus({ role: 'publisher', source }); // e.g. the token service restarting
    await waitFor(() => seen.has(orphan.seq), { message: 'reconcile on start' });
    const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(entries).toHaveLength(2); // the already-published one was not duplicated
  });

  it('relays, while running, a revocation committed after its request gave up (never published)', async () => {
    const source = new CommittedRevocations();
    const publisher = await bus({ role: 'publisher', source, relayIntervalMs: 100 });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    const published = source.commit(revocation());
    await publisher.publish(published);
    // The statement reached PostgreSQL after a stall, when its request had already answered 503:
    const late = source.commit(revocation());
    await waitFor(() => seen.has(late.seq), { timeoutMs: 3000, message: 'relayed' });
    await new Promise((r) => setTimeout(r, 300)); // a few more relay rounds
    const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(entries).toHaveLength(2); // each once: the relay does not re-publish what the stream has
  });

  it('publishes each outbox entry once and in order, however many publishers relay it', async () => {
    const source = new CommittedRevocations();
    // Committed by processes that died before publishing: three publishers (token service, key service, …) relay.
    const orphans = [source.commit(revocation()), source.commit(revocation()), source.commit(revocation())];
    const relays = await Promise.all([1, 2, 3].map(() => bus({ role: 'publisher', source, relayIntervalMs: 50, reconcileOnStart: false })));
    await waitFor(() => orphans.every((e) => source.published.has(e.seq)), { timeoutMs: 5000, message: 'marked published' });
    // Several more relay rounds of every publisher, and a retry of one of them by a publisher that still held it.
    await relays[0]!.publish(orphans[1]!);
    await new Promise((r) => setTimeout(r, 400));
    const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(entries.map(([, fields]) => (JSON.parse(fields[1]!) as RevocationEvent).seq)).toEqual(orphans.map((e) => e.seq));
  });

  it('keeps what is committed during a Redis outage in the outbox and publishes it, in order, once back', async () => {
    const source = new CommittedRevocations();
    const link = await proxy();
    const publisher = await bus({ role: 'publisher', source, relayIntervalMs: 50, publishTimeoutMs: 200, url: link.urlFor(redisUrl()) });
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    link.cut();
    await waitFor(() => !publisher.health().connected);
    const during = [source.commit(revocation()), source.commit(revocation())];
    for (const event of during) await expect(publisher.publish(event)).rejects.toBeInstanceOf(RevocationPublishTimeoutError);
    expect(source.published.size).toBe(0);
    link.restore();
    await waitFor(() => during.every((e) => seen.has(e.seq) && source.published.has(e.seq)), { timeoutMs: 5000, message: 'published after the outage' });
    await new Promise((r) => setTimeout(r, 300)); // relay rounds after the reconnect
    const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(entries.map(([, fields]) => (JSON.parse(fields[1]!) as RevocationEvent).seq)).toEqual(during.map((e) => e.seq));
  });

  it('in role both, hands a publish to its own handlers at once and once only', async () => {
    const source = new CommittedRevocations();
    const allInOne = await bus({ role: 'both', source });
    const delivered: RevocationEvent[] = [];
    allInOne.subscribe((e) => delivered.push(e));
    const event = source.commit(revocation());
    const published = allInOne.publish(event);
    // Before any Redis round trip: the caller has committed it, so the local edge may act on it now.
    expect(delivered).toEqual([event]);
    await published;
    const entries = await admin.xrange(`${keyPrefix}revocations`, '-', '+');
    expect(entries).toHaveLength(1);
    // The copy coming back through pub/sub and the stream read is an exact repeat: not delivered again.
    const edge = await bus({ role: 'subscriber' });
    const seen = collect(edge);
    await waitFor(() => seen.has(event.seq));
    await allInOne.publish(source.commit(revocation()));
    await waitFor(() => seen.size === 2);
    expect(delivered.map((e) => e.seq)).toEqual([event.seq, event.seq + 1]);
  });

  it('closes cleanly with nothing left running', async () => {
    const link = await proxy();
    const edge = await bus({ role: 'both', url: link.urlFor(redisUrl()) });
    link.cut(); // closing while reconnecting must not leave timers behind
    await waitFor(() => !edge.health().connected);
    await edge.close();
    expect(edge.health()).toMatchObject({ connected: false, stale: true });
    await expect(edge.publish(revocation())).rejects.toThrow(/closed/);
  });
});
