import { RedisClusterBus } from '@signet/mqtt-cluster';
import { deleteRedisKeys, redisUrl, uniquePrefix } from '@signet/testing';
import { clusterSuite } from './testing/cluster-suite';

clusterSuite('Redis', async () => {
  const keyPrefix = uniquePrefix('edge-cluster');
  const leaseMs = 600;
  return {
    bus: (edgeId) => new RedisClusterBus({ edgeId, url: redisUrl(), keyPrefix, leaseMs }),
    leaseMs,
    close: async () => {
      await deleteRedisKeys(keyPrefix);
    },
  };
});
