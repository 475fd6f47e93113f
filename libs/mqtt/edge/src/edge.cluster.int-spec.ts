import Redis from 'ioredis';
import { RedisClusterBus } from '@signet/mqtt-cluster';
import { redisClusterHarness } from '@signet/mqtt-cluster/testing';
import { deleteRedisKeys, redisUrl, uniquePrefix } from '@signet/testing';
import { CONNACK_CODES } from './core/principal';
import { MqttEdge } from './edge';
import { clusterSuite } from './testing/cluster-suite';
import { connect, endAllClients, ORG_A, refusalCode, TestAuthenticator, unique, UNLIMITED_CONNECT_RATE } from './testing/helpers';

clusterSuite('Redis', redisClusterHarness('edge-cluster'));

describe('edges on Redis after Redis lost its data', () => {
  it('claim the client ids of their live connections again, so another user is still refused', async () => {
    const keyPrefix = uniquePrefix('edge-cluster-rejoin');
    const redis = new Redis(redisUrl());
    const edges = ['edge-a', 'edge-b'].map(
      (edgeId) =>
        new MqttEdge({
          authenticator: new TestAuthenticator(),
          limits: { sweepIntervalMs: 50, ...UNLIMITED_CONNECT_RATE },
          cluster: new RedisClusterBus({ edgeId, url: redisUrl(), keyPrefix, leaseMs: 300 }),
        }),
    );
    try {
      const [a, b] = await Promise.all(edges.map(async (e) => `mqtt://127.0.0.1:${(await e.listenTcp(0, '127.0.0.1')).port}`));
      const clientId = unique('dev-');
      await connect(a, 5, { username: `alice@${ORG_A}`, password: 'good', clientId });
      const record = `${keyPrefix}cluster:client:${ORG_A}\u0000${clientId}`;
      expect(await redis.exists(record)).toBe(1);
      await deleteRedisKeys(keyPrefix);
      let claimedAgain = false;
      const start = Date.now();
      while (!claimedAgain && Date.now() - start < 3000) {
        claimedAgain = (await redis.exists(record)) === 1;
        if (!claimedAgain) await new Promise((r) => setTimeout(r, 20));
      }
      expect(claimedAgain).toBe(true);
      expect(await refusalCode(b, 5, { username: `bob@${ORG_A}`, password: 'good', clientId })).toBe(CONNACK_CODES.client_id_in_use.v5);
    } finally {
      await endAllClients();
      await Promise.all(edges.map((e) => e.close()));
      redis.disconnect();
      await deleteRedisKeys(keyPrefix);
    }
  });
});
