import Redis from 'ioredis';

import { redisUrl } from './env';
import { deleteIssuedRedisKeys, uniquePrefix } from './redis';

/** The test Redis must not keep `signet-test-*` keys once a test file is done, whoever wrote them. */
let leftBehind = '';

describe('test Redis prefixes', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(() => redis.quit());

  const keysOf = async (prefix: string) => (await redis.keys(`${prefix}*`)).length;

  it('deleteIssuedRedisKeys removes the keys of every prefix handed out', async () => {
    const a = uniquePrefix('issued-a');
    const b = uniquePrefix('issued-b');
    await redis.set(`${a}one`, '1');
    await redis.set(`${b}two`, '2');
    expect(await deleteIssuedRedisKeys()).toBeGreaterThanOrEqual(2);
    expect([await keysOf(a), await keysOf(b)]).toEqual([0, 0]);
  });

  it('leaves keys for the end of the file, when nobody cleans up', async () => {
    leftBehind = uniquePrefix('left-behind');
    await redis.set(`${leftBehind}three`, '3');
    expect(await keysOf(leftBehind)).toBe(1);
  });
});

// Registered after the testing library's own end-of-file hook, so it runs after it (jest runs a block's
// afterAll hooks in the order they were added).
afterAll(async () => {
  const redis = new Redis(redisUrl());
  try {
    expect(await redis.keys(`${leftBehind}*`)).toEqual([]);
  } finally {
    await redis.quit();
  }
});
