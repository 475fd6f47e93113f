import type Redis from 'ioredis';
import { decodeMessage, DURABLE, encodeMessage, SEP } from './frames';
import {
  SESSION_STORE_EDGE,
  type ClusterMessage,
  type SharedSessions,
  type StoredMessage,
  type StoredOptions,
  type StoredSession,
} from './types';

/** Lua: `now`, Redis's clock in ms (one clock for every edge's leases and expiries). */
export const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Persistent sessions on Redis, beside the cluster bus's keys (`<prefix>cluster:`):
 * - `psess:<org> \0 <client id>`: hash of `owner`, `expiry` (ms), `subs` (JSON: filter → StoredOptions),
 *   `parked` (the edge that keeps its delayed will), `cred` (the credential it last held) and `revoked` (that
 *   credential, revoked while an edge with a live lease held the session: if that edge turns out dead, the
 *   reap ends the session rather than parking it);
 * - `pq:<org> \0 <client id>`: a stream, the durable queue: entries `q` (QoS) and `m` (the message frame, its
 *   expiry as an absolute time), removed when the client acknowledges them;
 * - `pfilter:<org> \0 <filter>`: hash client id → StoredOptions JSON, the sessions with that subscription;
 *   each filter with any is a route of SESSION_STORE_EDGE (`routes:~sessions`, announced on `control` like
 *   an edge's, and that pseudo-edge has a lease that never ends), so every edge mirrors which topics need
 *   the queue;
 * - `pexpiry`: sorted set `<org> \0 <client id>` → when an offline session ends, reaped by the heartbeats;
 * - `pcred:<credential id>`: set of `<org> \0 <client id>`, the stored sessions last held under that credential
 *   (the hash's `cred`), so that revoking it ends them (SharedSessions.revoke).
 *
 * `sessionLua(base, control, sep)` is the Lua the bus's own scripts include (claim, release, heartbeat,
 * leave), with the three names given as the script's ARGV expressions.
 */
export function sessionLua(base: string, control: string, sep: string): string {
  return `
local SB, SC, SS = ${base}, ${control}, ${sep}
local STORE = '${SESSION_STORE_EDGE}'
local function s_key(org, cid) return SB .. 'psess:' .. org .. SS .. cid end
local function s_queue(org, cid) return SB .. 'pq:' .. org .. SS .. cid end
local function s_route(org, filter, flag)
  redis.call('PUBLISH', SC, 'R' .. SS .. STORE .. SS .. org .. SS .. filter .. SS .. flag)
end
local function s_index(org, cid, filter, options)
  if string.sub(filter, 1, 7) == '$share/' then return end
  redis.call('HSET', SB .. 'pfilter:' .. org .. SS .. filter, cid, options)
  if redis.call('SADD', SB .. 'routes:' .. STORE, org .. SS .. filter) == 1 then
    redis.call('ZADD', SB .. 'edges', '+inf', STORE)
    s_route(org, filter, '1')
  end
end
local function s_unindex(org, cid, filter)
  if string.sub(filter, 1, 7) == '$share/' then return end
  local idx = SB .. 'pfilter:' .. org .. SS .. filter
  if redis.call('HDEL', idx, cid) == 1 and redis.call('EXISTS', idx) == 0 then
    if redis.call('SREM', SB .. 'routes:' .. STORE, org .. SS .. filter) == 1 then s_route(org, filter, '0') end
  end
end
local function s_drop(org, cid)
  local stored = redis.call('HMGET', s_key(org, cid), 'subs', 'cred')
  if stored[1] then for filter in pairs(cjson.decode(stored[1])) do s_unindex(org, cid, filter) end end
  if stored[2] then redis.call('SREM', SB .. 'pcred:' .. stored[2], org .. SS .. cid) end
  redis.call('DEL', s_key(org, cid), s_queue(org, cid))
  redis.call('ZREM', SB .. 'pexpiry', org .. SS .. cid)
end
local function s_credential(org, cid, cred)
  if cred == nil or cred == '' then return end
  local old = redis.call('HGET', s_key(org, cid), 'cred')
  if old == cred then return end
  if old then redis.call('SREM', SB .. 'pcred:' .. old, org .. SS .. cid) end
  redis.call('HSET', s_key(org, cid), 'cred', cred)
  redis.call('SADD', SB .. 'pcred:' .. cred, org .. SS .. cid)
end
-- cred: the releasing edge's (it knows the credential, and closed the session had it been revoked); nil when
-- a dead edge is reaped, which ends the session if its credential was revoked meanwhile (REVOKE's mark).
local function s_park(org, cid, now, expiry, cred)
  local key = s_key(org, cid)
  if redis.call('EXISTS', key) == 0 then return end
  if cred == nil then
    local mark = redis.call('HMGET', key, 'revoked', 'cred')
    if mark[1] and mark[1] == mark[2] then return s_drop(org, cid) end
  else
    redis.call('HDEL', key, 'revoked')
    s_credential(org, cid, cred)
  end
  if expiry then redis.call('HSET', key, 'expiry', expiry)
  else expiry = redis.call('HGET', key, 'expiry') end
  redis.call('ZADD', SB .. 'pexpiry', now + tonumber(expiry), org .. SS .. cid)
end
local function s_reap(now)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', SB .. 'pexpiry', '-inf', now, 'LIMIT', 0, 100)) do
    local i = string.find(m, SS, 1, true)
    if i then s_drop(string.sub(m, 1, i - 1), string.sub(m, i + 1)) else redis.call('ZREM', SB .. 'pexpiry', m) end
  end
end`;
}

/**
 * The claim's part (redis-bus.ts CLAIM, after the id is claimed as `epoch`): ARGV[9] '' (stored session left
 * alone), 'c' (clean start: it ends) or 'r' (resume: the same owner's is read, another owner's ends);
 * ARGV[10] the new session's expiry ms ('0': nothing stays stored), ARGV[11] how many queued messages are read,
 * ARGV[15] the credential the new session holds.
 * Returns `{epoch, subs JSON or false, queue entries or false}`; a parked session's edge is told to drop its will.
 */
export const CLAIM_SESSION = `
local org, cid, mode = ARGV[6], ARGV[7], ARGV[9]
local subs, entries = false, false
if mode ~= '' then
  local key = s_key(org, cid)
  local stored = redis.call('HMGET', key, 'owner', 'subs', 'parked')
  if stored[1] then
    if stored[3] and stored[3] ~= ARGV[1] then redis.call('PUBLISH', ARGV[3] .. stored[3], ARGV[4] .. epoch) end
    -- The new claim holds it now: the last holder's delayed will and revoke mark are done with.
    redis.call('HDEL', key, 'parked', 'revoked')
    if mode == 'r' and stored[1] == ARGV[2] then
      subs = stored[2]
      entries = redis.call('XRANGE', s_queue(org, cid), '-', '+', 'COUNT', tonumber(ARGV[11]))
      redis.call('ZREM', SB .. 'pexpiry', org .. SS .. cid)
      if ARGV[10] == '0' then s_drop(org, cid) end
    else
      s_drop(org, cid)
    end
  end
  if ARGV[10] ~= '0' then
    if subs then redis.call('HSET', key, 'expiry', ARGV[10])
    else redis.call('HSET', key, 'owner', ARGV[2], 'expiry', ARGV[10], 'subs', '{}') end
    s_credential(org, cid, ARGV[15])
  end
end
return {epoch, subs, entries}`;

/** ARGV: base, control, sep, org, client id, epoch, filter, options JSON ('' removes). 0 when fenced or not stored. */
const SUBSCRIBE = `${sessionLua('ARGV[1]', 'ARGV[2]', 'ARGV[3]')}
local org, cid, filter = ARGV[4], ARGV[5], ARGV[7]
if redis.call('HGET', SB .. 'client:' .. org .. SS .. cid, 'epoch') ~= ARGV[6] then return 0 end
local subs = redis.call('HGET', s_key(org, cid), 'subs')
if not subs then return 0 end
subs = cjson.decode(subs)
if ARGV[8] == '' then
  subs[filter] = nil
  s_unindex(org, cid, filter)
else
  subs[filter] = cjson.decode(ARGV[8])
  s_index(org, cid, filter, ARGV[8])
end
redis.call('HSET', s_key(org, cid), 'subs', cjson.encode(subs))
return 1`;

/**
 * ARGV: base, control, sep, org, message frame, its QoS, the publisher's client id ('' none), queue limit,
 * then the matched filters. Each stored session gets the message once, at the best QoS of its matching
 * subscriptions; returns the client ids it was stored for.
 */
const ENQUEUE = `${sessionLua('ARGV[1]', 'ARGV[2]', 'ARGV[3]')}
local org, frame, mq, from, limit = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local best, order = {}, {}
for i = 9, #ARGV do
  local all = redis.call('HGETALL', SB .. 'pfilter:' .. org .. SS .. ARGV[i])
  for j = 1, #all, 2 do
    local cid, o = all[j], cjson.decode(all[j + 1])
    if not (o.nl == true and cid == from) then
      local q = math.min(tonumber(o.qos), mq)
      if q > 0 then
        if best[cid] == nil then order[#order + 1] = cid end
        if best[cid] == nil or q > best[cid] then best[cid] = q end
      end
    end
  end
end
local stored = {}
for _, cid in ipairs(order) do
  local queue = s_queue(org, cid)
  if redis.call('XLEN', queue) < limit then
    local q = tostring(best[cid])
    local ref = redis.call('XADD', queue, '*', 'q', q, 'm', frame)
    local edge = redis.call('HGET', SB .. 'client:' .. org .. SS .. cid, 'edge')
    if edge then redis.call('PUBLISH', SB .. 'inbox:' .. edge, '${DURABLE}' .. SS .. cid .. SS .. ref .. SS .. q .. SS .. frame) end
    stored[#stored + 1] = cid
  end
end
return stored`;

/**
 * ARGV: base, control, sep, then credential ids. Ends the stored sessions last held under them that no
 * live edge holds now; a connected one is its edge's to end (its revoke closes it, and the release ends the
 * stored session), and it may hold another credential by then (re-authentication). That edge may be dead with
 * its lease still running: the session is marked `revoked`, so that reaping the edge ends it (s_park), while
 * a release by a live edge clears the mark. Returns how many ended.
 */
const REVOKE = `${NOW}
${sessionLua('ARGV[1]', 'ARGV[2]', 'ARGV[3]')}
local ended = 0
for i = 4, #ARGV do
  local index = SB .. 'pcred:' .. ARGV[i]
  for _, m in ipairs(redis.call('SMEMBERS', index)) do
    local j = string.find(m, SS, 1, true)
    local org, cid = string.sub(m, 1, j - 1), string.sub(m, j + 1)
    local holder = redis.call('HGET', SB .. 'client:' .. m, 'edge')
    local lease = holder and redis.call('ZSCORE', SB .. 'edges', holder)
    local live = lease and tonumber(lease) > now
    if redis.call('HGET', s_key(org, cid), 'cred') == ARGV[i] then
      if live then
        redis.call('HSET', s_key(org, cid), 'revoked', ARGV[i])
      else
        s_drop(org, cid)
        ended = ended + 1
      end
    end
  end
end
return ended`;

interface Scripted {
  persistSubscription(...args: string[]): Promise<number>;
  enqueue(...args: (string | Buffer)[]): Promise<string[]>;
  revokeStored(...args: string[]): Promise<number>;
}

/** A stored message's expiry is absolute (ms since the epoch) while stored: the time left is right whenever it is read. */
export function storedFrame(orgId: string, message: ClusterMessage): Buffer {
  return encodeMessage(orgId, message.ttlMs !== undefined ? { ...message, ttlMs: Date.now() + message.ttlMs } : message);
}

/** A stored frame's message with its time left; null when it expired or is not one. */
export function fromStoredFrame(frame: Buffer, now = Date.now()): { orgId: string; message: ClusterMessage } | null {
  const decoded = decodeMessage(frame);
  if (decoded === null) return null;
  const until = decoded.message.ttlMs;
  if (until === undefined) return decoded;
  if (until <= now) return null;
  return { orgId: decoded.orgId, message: { ...decoded.message, ttlMs: until - now } };
}

/** The stored session in a claim's reply: subscriptions JSON and XRANGE entries (Buffers). */
export function storedSession(subs: Buffer, entries: [Buffer, Buffer[]][]): StoredSession {
  const subscriptions = new Map<string, StoredOptions>();
  try {
    for (const [filter, o] of Object.entries(JSON.parse(subs.toString()) as Record<string, StoredOptions>)) {
      if (o !== null && typeof o === 'object' && (o.qos === 0 || o.qos === 1 || o.qos === 2)) {
        subscriptions.set(filter, { qos: o.qos, nl: o.nl === true, rap: o.rap === true, rh: Number(o.rh) || 0, ids: Array.isArray(o.ids) ? o.ids : null });
      }
    }
  } catch {
    // An unreadable entry (another version's) resumes with no subscriptions rather than failing the CONNECT.
  }
  const now = Date.now();
  const messages: StoredMessage[] = [];
  for (const [id, fields] of entries) {
    let qos: number | undefined;
    let frame: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i].toString();
      if (name === 'q') qos = Number(fields[i + 1].toString());
      else if (name === 'm') frame = fields[i + 1];
    }
    const decoded = frame === undefined ? null : fromStoredFrame(frame, now);
    if (decoded !== null && (qos === 1 || qos === 2)) messages.push({ ref: id.toString(), qos, message: decoded.message });
  }
  return { subscriptions, messages };
}

/** SharedSessions on the bus's Redis connection (RedisClusterBus.sessions). */
export class RedisSessionStore implements SharedSessions {
  private readonly redis: Redis & Scripted;

  constructor(
    redis: Redis,
    private readonly base: string,
    private readonly control: string,
    private readonly onError: (err: unknown, what: string) => void,
  ) {
    this.redis = redis as Redis & Scripted;
    this.redis.defineCommand('persistSubscription', { numberOfKeys: 0, lua: SUBSCRIBE });
    this.redis.defineCommand('enqueue', { numberOfKeys: 0, lua: ENQUEUE });
    this.redis.defineCommand('revokeStored', { numberOfKeys: 0, lua: REVOKE });
  }

  subscribe(orgId: string, clientId: string, epoch: number, filter: string, options: StoredOptions | null): void {
    const json = options === null ? '' : JSON.stringify({ qos: options.qos, nl: options.nl, rap: options.rap, rh: options.rh, ids: options.ids });
    this.redis
      .persistSubscription(this.base, this.control, SEP, orgId, clientId, String(epoch), filter, json)
      .catch((err: unknown) => this.onError(err, 'stored subscription not updated'));
  }

  async enqueue(orgId: string, message: ClusterMessage, from: string | null, filters: readonly string[], limit: number): Promise<ReadonlySet<string>> {
    const frame = storedFrame(orgId, message);
    const stored = await this.redis.enqueue(this.base, this.control, SEP, orgId, frame, String(message.qos), from ?? '', String(limit), ...filters);
    return new Set(stored);
  }

  revoke(credentialIds: readonly string[]): Promise<number> {
    return this.redis.revokeStored(this.base, this.control, SEP, ...credentialIds);
  }

  ack(orgId: string, clientId: string, ref: string): void {
    this.redis.xdel(`${this.base}pq:${orgId}${SEP}${clientId}`, ref).catch((err: unknown) => this.onError(err, 'acknowledged message not removed'));
  }
}
