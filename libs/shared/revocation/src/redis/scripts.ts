/**
 * XADD and PUBLISH in one atomic step, with the new stream id inside the
 * published message so a subscriber can tell which stream entry a live message
 * was (and not deliver it twice when the stream replay reaches it).
 * Once per seq: the published set (seq → its `until`) says a seq is on the
 * stream already, so the outbox relay of one process and the retries of
 * another never put the same revocation there twice; the reply is then nil.
 * Members past their `until` are dropped, as the deny state drops them.
 * KEYS[1] stream, KEYS[2] published set; ARGV[1] event JSON, ARGV[2] MAXLEN,
 * ARGV[3] channel, ARGV[4] seq, ARGV[5] until, ARGV[6] now (ms epoch).
 */
export const PUBLISH_SCRIPT = `
if redis.call('ZSCORE', KEYS[2], ARGV[4]) then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '","e":' .. ARGV[1] .. '}')
return id`;

/** Deletes the lock only if we still own it. KEYS[1] lock; ARGV[1] token. */
export const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
