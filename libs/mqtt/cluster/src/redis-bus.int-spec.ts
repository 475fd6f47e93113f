import { deleteRedisKeys, redisUrl, TcpProxy, uniquePrefix } from '@signet/testing';
import { RedisClusterBus } from './redis-bus';
import { clusterBusConformance, redisClusterHarness } from './testing';
import type { ClusterNode } from './types';

clusterBusConformance('RedisClusterBus', redisClusterHarness('cluster-bus'));

function silentNode(): ClusterNode & { rejoins: number; routes: Set<string> } {
  const node = {
    rejoins: 0,
    routes: new Set<string>(),
    deliver: () => undefined,
    routeChanged: (edge: string, orgId: string, filter: string, present: boolean) => {
      if (present) node.routes.add(`${edge} ${orgId} ${filter}`);
      else node.routes.delete(`${edge} ${orgId} ${filter}`);
    },
    edgeGone: () => undefined,
    takenOver: () => undefined,
    rejoined: () => {
      node.rejoins++;
    },
    kick: () => undefined,
    durable: () => undefined,
  };
  return node;
}

describe('RedisClusterBus when Redis lost its data', () => {
  it('takes its lease again, announces its routes again and asks the edge to claim its client ids again', async () => {
    const keyPrefix = uniquePrefix('cluster-bus-rejoin');
    const common = { keyPrefix, url: redisUrl(), leaseMs: 300 };
    const a = new RedisClusterBus({ ...common, edgeId: 'edge-a' });
    const nodeA = silentNode();
    let c: RedisClusterBus | null = null;
    try {
      await a.start(nodeA);
      a.setRoute('org_1', 'x/#', true);
      expect((await a.claim('org_1', 'dev-1', 'token:alice')).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      await deleteRedisKeys(keyPrefix);
      const start = Date.now();
      while (nodeA.rejoins === 0 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(nodeA.rejoins).toBe(1);
      // An edge that joins now finds a's route.
      c = new RedisClusterBus({ ...common, edgeId: 'edge-c' });
      const nodeC = silentNode();
      await c.start(nodeC);
      expect([...nodeC.routes]).toEqual(['edge-a org_1 x/#']);
    } finally {
      await Promise.all([a.close(), c?.close()]);
      await deleteRedisKeys(keyPrefix);
    }
  });
});

describe('RedisClusterBus after its Redis connection was lost', () => {
  it('reads the route table again and tells the edge what changed meanwhile', async () => {
    const keyPrefix = uniquePrefix('cluster-bus-resync');
    const proxy = TcpProxy.forUrl(redisUrl());
    await proxy.start();
    const routes = new Set<string>();
    const node: ClusterNode = {
      deliver: () => undefined,
      routeChanged: (edge, orgId, filter, present) => {
        if (present) routes.add(`${edge} ${orgId} ${filter}`);
        else routes.delete(`${edge} ${orgId} ${filter}`);
      },
      edgeGone: (edge) => {
        for (const r of [...routes]) if (r.startsWith(`${edge} `)) routes.delete(r);
      },
      takenOver: () => undefined,
      rejoined: () => undefined,
      kick: () => undefined,
      durable: () => undefined,
    };
    // Leases far longer than the cut, so nobody is reaped meanwhile.
    const common = { keyPrefix, leaseMs: 30_000, redis: { retryStrategy: () => 50 } };
    const a = new RedisClusterBus({ ...common, edgeId: 'edge-a', url: redisUrl() });
    const c = new RedisClusterBus({ ...common, edgeId: 'edge-c', url: redisUrl() });
    const b = new RedisClusterBus({ ...common, edgeId: 'edge-b', url: proxy.urlFor(redisUrl()) });
    const until = async (predicate: () => boolean, what: string) => {
      const start = Date.now();
      while (!predicate()) {
        if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}: ${[...routes].join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await a.start(silentNode());
      await c.start(silentNode());
      await b.start(node);
      a.setRoute('org_1', 'x/#', true);
      c.setRoute('org_1', 'gone/#', true);
      await until(() => routes.size === 2, 'routes before the cut');
      proxy.cut();
      await new Promise((r) => setTimeout(r, 100));
      a.setRoute('org_1', 'x/#', false);
      a.setRoute('org_2', 'y', true);
      await c.close();
      await new Promise((r) => setTimeout(r, 100));
      // b heard none of it.
      expect([...routes].sort()).toEqual(['edge-a org_1 x/#', 'edge-c org_1 gone/#']);
      proxy.restore();
      await until(() => routes.size === 1 && routes.has('edge-a org_2 y'), 'routes after the reconnect');
      // And it hears changes again.
      a.setRoute('org_2', 'z', true);
      await until(() => routes.has('edge-a org_2 z'), 'a change after the reconnect');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await proxy.close();
      await deleteRedisKeys(keyPrefix);
    }
  });
});

describe('RedisClusterBus stored sessions', () => {
  const message = (payload: string) => ({ topic: 'x/1', payload: Buffer.from(payload), qos: 1 as const, retain: false });
  const persist = { resume: true, expiryMs: 60_000, limit: 100 };

  it('store a session with its claim, queue for it durably and hand it to its edge, resume it elsewhere with what is unacknowledged', async () => {
    const keyPrefix = uniquePrefix('cluster-bus-stored');
    const common = { keyPrefix, url: redisUrl(), leaseMs: 5000 };
    const a = new RedisClusterBus({ ...common, edgeId: 'edge-a' });
    const b = new RedisClusterBus({ ...common, edgeId: 'edge-b' });
    const durable: string[] = [];
    const nodeA = { ...silentNode(), durable: (_o: string, cid: string, _r: string, qos: number, m: { payload: Buffer }) => durable.push(`a ${cid} ${qos} ${m.payload.toString()}`) };
    const nodeB = silentNode();
    try {
      await a.start(nodeA);
      await b.start(nodeB);
      const first = await a.claim('org_1', 'dev-1', 'token:alice', { persist });
      if (!first.ok) throw new Error('claim refused');
      expect(first.stored).toBeUndefined();
      a.sessions.subscribe('org_1', 'dev-1', first.epoch, 'x/#', { qos: 1, nl: false, rap: false, rh: 0, ids: null });
      // The subscription is a route of the store: b mirrors it.
      const start = Date.now();
      while (!nodeB.routes.has('~sessions org_1 x/#') && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
      expect([...nodeB.routes]).toEqual(['~sessions org_1 x/#']);
      // Published on b: stored for dev-1 and handed to a, which holds the client id.
      expect([...(await b.sessions.enqueue('org_1', message('one'), null, ['x/#'], 100))]).toEqual(['dev-1']);
      expect([...(await b.sessions.enqueue('org_1', message('two'), null, ['x/#'], 100))]).toEqual(['dev-1']);
      // A filter no stored session holds stores nothing.
      expect([...(await b.sessions.enqueue('org_1', message('none'), null, ['y/#'], 100))]).toEqual([]);
      while (durable.length < 2 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
      expect(durable).toEqual(['a dev-1 1 one', 'a dev-1 1 two']);
      a.release('org_1', 'dev-1', first.epoch, { expiryMs: 60_000, willHere: false });
      // Resumed on b: its subscription and the unacknowledged messages; acknowledged, one is gone for good.
      const resumed = await b.claim('org_1', 'dev-1', 'token:alice', { persist });
      if (!resumed.ok || resumed.stored === undefined) throw new Error('not resumed');
      expect([...resumed.stored.subscriptions.keys()]).toEqual(['x/#']);
      expect(resumed.stored.messages.map((m) => m.message.payload.toString())).toEqual(['one', 'two']);
      b.sessions.ack('org_1', 'dev-1', resumed.stored.messages[0].ref);
      b.release('org_1', 'dev-1', resumed.epoch, { expiryMs: 60_000, willHere: false });
      await new Promise((r) => setTimeout(r, 50)); // the acknowledgement is b's to send, not awaited
      const again = await a.claim('org_1', 'dev-1', 'token:alice', { persist });
      if (!again.ok || again.stored === undefined) throw new Error('not resumed');
      expect(again.stored.messages.map((m) => m.message.payload.toString())).toEqual(['two']);
      // Another owner does not resume it: it ends, and its route with it.
      a.release('org_1', 'dev-1', again.epoch, { expiryMs: 60_000, willHere: false });
      const other = await b.claim('org_1', 'dev-1', 'token:mallory', { persist });
      expect(other.ok && other.stored).toBe(undefined);
      while (nodeB.routes.size > 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
      expect([...nodeB.routes]).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await deleteRedisKeys(keyPrefix);
    }
  });

  it('an offline stored session ends when its expiry passes; a dead edge’s live ones start waiting for theirs', async () => {
    const keyPrefix = uniquePrefix('cluster-bus-expiry');
    const common = { keyPrefix, url: redisUrl(), leaseMs: 300 };
    const a = new RedisClusterBus({ ...common, edgeId: 'edge-a' });
    const b = new RedisClusterBus({ ...common, edgeId: 'edge-b' });
    const nodeB = silentNode();
    try {
      await a.start(silentNode());
      await b.start(nodeB);
      const short = { ...persist, expiryMs: 400 };
      const parked = await a.claim('org_1', 'dev-parked', 'token:alice', { persist: short });
      const held = await a.claim('org_1', 'dev-held', 'token:alice', { persist: short });
      if (!parked.ok || !held.ok) throw new Error('claim refused');
      a.sessions.subscribe('org_1', 'dev-parked', parked.epoch, 'p/#', { qos: 1, nl: false, rap: false, rh: 0, ids: null });
      a.sessions.subscribe('org_1', 'dev-held', held.epoch, 'h/#', { qos: 1, nl: false, rap: false, rh: 0, ids: null });
      const start = Date.now();
      while (nodeB.routes.size < 2 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
      expect(nodeB.routes.size).toBe(2);
      a.release('org_1', 'dev-parked', parked.epoch, { expiryMs: 400, willHere: false });
      await new Promise((r) => setTimeout(r, 50));
      // a dies holding dev-held: reaped with a's lease, its session then waits 400 ms and ends.
      await a.close({ release: false });
      while (nodeB.routes.size > 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
      expect([...nodeB.routes]).toEqual([]);
      for (const cid of ['dev-parked', 'dev-held']) {
        const claim = await b.claim('org_1', cid, 'token:alice', { persist });
        expect(claim.ok && claim.stored).toBe(undefined);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
      await deleteRedisKeys(keyPrefix);
    }
  });
});
