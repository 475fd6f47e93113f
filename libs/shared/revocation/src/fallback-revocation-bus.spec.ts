import { FallbackRevocationBus, type RevocationFeed } from './fallback-revocation-bus';
import { InMemoryRevocationBus } from './in-memory-revocation-bus';
import type { RevocationBusHealth, RevocationEvent } from './types';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const event = (seq: number): RevocationEvent => ({ seq, credentialIds: [`tok_${seq}`], until: Date.now() + 60_000, reason: 'token_revoked', at: Date.now() });

/** The token service's log as the feed serves it; `down` makes it fail as an unreachable service would. */
class FakeFeed implements RevocationFeed {
  readonly log: RevocationEvent[] = [];
  readonly calls: number[] = [];
  down = false;
  async list(afterSeq: number, limit: number): Promise<RevocationEvent[]> {
    this.calls.push(afterSeq);
    if (this.down) throw new Error('UNAVAILABLE');
    return this.log.filter((e) => e.seq > afterSeq).slice(0, limit);
  }
}

/** An in-process bus whose health can be frozen, as a Redis bus's is while Redis is away. */
class FreezableBus extends InMemoryRevocationBus {
  frozenAt: number | null = null;
  override health(): RevocationBusHealth {
    const h = super.health();
    return this.frozenAt === null ? h : { connected: false, lastSyncAt: this.frozenAt, stale: false };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('FallbackRevocationBus', () => {
  const buses: FallbackRevocationBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  const fallback = (primary: FreezableBus | undefined, feed: FakeFeed, maxStalenessMs = 30_000): FallbackRevocationBus => {
    const bus = new FallbackRevocationBus({ primary, feed, pollIntervalMs: 20, fallbackAfterMs: 60, pageSize: 2, maxStalenessMs, logger: quiet });
    buses.push(bus);
    return bus;
  };

  it('without a primary, polls the feed page by page and is fresh while it answers', async () => {
    const feed = new FakeFeed();
    feed.log.push(event(1), event(2), event(3));
    const bus = fallback(undefined, feed, 200);
    const seen: number[] = [];
    bus.subscribe((e) => seen.push(e.seq));
    await bus.start();
    expect(seen).toEqual([1, 2, 3]);
    expect(bus.health()).toMatchObject({ connected: true, stale: false });
    feed.log.push(event(4));
    await until(() => seen.includes(4));
    expect(feed.calls).toContain(3); // asks for what comes after what it has
    feed.down = true;
    await until(() => bus.health().stale, 1000);
    expect(bus.health().connected).toBe(false);
  });

  it('leaves the feed alone while the primary is in sync, and polls it once the primary falls behind', async () => {
    const primary = new FreezableBus();
    const feed = new FakeFeed();
    const bus = fallback(primary, feed);
    const seen: number[] = [];
    bus.subscribe((e) => seen.push(e.seq));
    await bus.start();
    const first = event(1);
    await primary.publish(first);
    expect(seen).toEqual([1]);
    await sleep(150);
    expect(feed.calls).toEqual([]);

    primary.frozenAt = Date.now(); // Redis gone: the primary's last sync ages
    feed.log.push(first, event(2));
    await until(() => seen.includes(2));
    // The same revocation by both paths reaches handlers once.
    expect(seen).toEqual([1, 2]);
    expect(bus.health()).toMatchObject({ connected: true, stale: false });

    primary.frozenAt = null;
    const polls = feed.calls.length;
    await sleep(150);
    expect(feed.calls.length).toBeLessThanOrEqual(polls + 1);
  });
});
