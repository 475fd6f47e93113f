import Redis from 'ioredis';
import { redisUrl } from './env';

/**
 * Deletes every key starting with `prefix` (as made by `uniquePrefix`) — the
 * shared test Redis must not accumulate test data, and FLUSHALL would destroy
 * other tests' state.
 */
export async function deleteRedisKeys(prefix: string, url: string = redisUrl()): Promise<number> {
  if (!prefix.startsWith('signet-test-')) {
    // Guard against wiping real data by accident with a too-broad prefix.
    throw new Error(`deleteRedisKeys: refusing to delete keys of non-test prefix "${prefix}"`);
  }
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = '0';
    const match = `${escapeGlob(prefix)}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
