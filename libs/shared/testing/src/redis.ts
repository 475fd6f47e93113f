import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';

import { redisUrl } from './env';

/** Every prefix `uniquePrefix` handed out in this test file (jest gives each file its own module registry). */
const issued = new Set<string>();

/**
 * A key prefix no other test (or parallel jest worker) uses, e.g.
 * `signet-test-revocation-3f9a1c2b7d:`. Redis is shared by every test on the
 * machine, so each test namespaces its keys and channels with one of these;
 * their keys are deleted when the test file ends (see below).
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'x';
  const prefix = `signet-test-${safe}-${randomBytes(5).toString('hex')}:`;
  issued.add(prefix);
  return prefix;
}

/** Tests' prefixes, and the benchmark's (bench/lib/signet-env.ts), which runs outside jest. */
const DELETABLE_PREFIXES = ['signet-test-', 'signet-bench-'];

/**
 * Deletes every key starting with `prefix` (as made by `uniquePrefix`) — the
 * shared test Redis must not accumulate test data, and FLUSHALL would destroy
 * other tests' state.
 */
export async function deleteRedisKeys(prefix: string, url: string = redisUrl()): Promise<number> {
  if (!DELETABLE_PREFIXES.some((p) => prefix.startsWith(p))) {
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

/** Deletes the keys of every prefix `uniquePrefix` handed out so far; a Redis that is not there has none. */
export async function deleteIssuedRedisKeys(url: string = redisUrl()): Promise<number> {
  let deleted = 0;
  for (const prefix of [...issued]) {
    try {
      deleted += await deleteRedisKeys(prefix, url);
      issued.delete(prefix);
    } catch {
      // Unit tests use prefixes without a Redis; nothing was written then.
    }
  }
  return deleted;
}

// This module is loaded while jest collects a test file, where a hook belongs to the file's root: after
// the file's own teardown (processes stopped), its prefixes' keys go, whichever helper or spec made them.
if (typeof afterAll === 'function') afterAll(() => deleteIssuedRedisKeys().then(() => undefined));

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
