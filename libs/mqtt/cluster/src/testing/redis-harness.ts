import { deleteRedisKeys, redisUrl, uniquePrefix } from '@signet/testing';
import { RedisClusterBus } from '../redis-bus';
import { RedisSessionDirectory } from '../redis-sessions';
import type { ClusterHarness } from './conformance';

/** Buses on the machine's Redis under a fresh key prefix (deleted on close), with a short lease. */
export function redisClusterHarness(name: string, leaseMs = 600): () => Promise<ClusterHarness> {
  return async () => {
    const keyPrefix = uniquePrefix(name);
    const sessions = new RedisSessionDirectory({ url: redisUrl(), keyPrefix });
    return {
      sessions,
      bus: (edgeId) => new RedisClusterBus({ edgeId, url: redisUrl(), keyPrefix, leaseMs }),
      leaseMs,
      close: async () => {
        await sessions.close();
        await deleteRedisKeys(keyPrefix);
      },
    };
  };
}
