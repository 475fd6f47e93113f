import { deleteRedisKeys, redisUrl, uniquePrefix } from '@signet/testing';
import { RedisClusterBus } from './redis-bus';
import { clusterBusConformance } from './testing/conformance';

clusterBusConformance('RedisClusterBus', async () => {
  const keyPrefix = uniquePrefix('cluster-bus');
  const leaseMs = 600;
  return {
    bus: (edgeId) => new RedisClusterBus({ edgeId, url: redisUrl(), keyPrefix, leaseMs }),
    leaseMs,
    close: async () => {
      await deleteRedisKeys(keyPrefix);
    },
  };
});
