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

describe('RedisClusterBus inbox batches', () => {
  it('delivers every message intact, in order, turn after turn, in batches of any size', async () => {
    const keyPrefix = uniquePrefix('cluster-bus-batches');
    const got: string[] = [];
    const receiver: ClusterNode = { ...silentNode(), deliver: (orgId, message) => void got.push(`${orgId} ${message.topic} ${message.payload.toString()}`) };
    const common = { keyPrefix, url: redisUrl(), leaseMs: 30_000 };
    const a = new RedisClusterBus({ ...common, edgeId: 'edge-a' });
    const b = new RedisClusterBus({ ...common, edgeId: 'edge-b' });
    const sent: string[] = [];
    try {
      await a.start(silentNode());
      await b.start(receiver);
      // Turns of 1 to 2,000 messages (a turn of many spans several batches), payloads of 0 to 3,000 bytes: the
      // buffers of answered batches are filled again by the next turns.
      for (const [turn, count] of [1, 2000, 3, 700, 1, 1500].entries()) {
        for (let i = 0; i < count; i++) {
          const [orgId, topic] = [`org_${i % 3}`, `t/${turn}/${i % 17}/é`];
          const payload = `${turn}:${i}:`.padEnd((i * 37) % 3000, String.fromCharCode(97 + (i % 26)));
          a.send('edge-b', orgId, { topic, payload: Buffer.from(payload), qos: 0, retain: false });
          sent.push(`${orgId} ${topic} ${payload}`);
        }
        await new Promise((r) => setTimeout(r, 30));
      }
      const start = Date.now();
      while (got.length < sent.length && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(got.length).toBe(sent.length);
      expect(got).toEqual(sent);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await deleteRedisKeys(keyPrefix);
    }
  });
});
