import Redis, { type RedisOptions } from 'ioredis';
import { decodeSession, KICK, SEP } from './frames';
import type { SessionDirectory, SessionQuery, SessionRecord } from './types';

export interface RedisSessionDirectoryOptions {
  /** e.g. `redis://user:pass@host:6379/0`. */
  url?: string;
  redis?: RedisOptions;
  /** The edges' key prefix (default `signet:`), as given to their RedisClusterBus. */
  keyPrefix?: string;
}

/** KEYS: the client id's hash, edges. ARGV: inbox channel prefix, kick frame. 1: sent to the live holder. */
const KICK_SCRIPT = `
local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local edge = redis.call('HGET', KEYS[1], 'edge')
if not edge then return 0 end
local lease = redis.call('ZSCORE', KEYS[2], edge)
if lease == false or tonumber(lease) <= now then return 0 end
redis.call('PUBLISH', ARGV[1] .. edge, ARGV[2])
return 1`;

/** Entries read per round trip while a user filter skips others. */
const SCAN_BATCH = 200;

/**
 * The session registry the edges keep in Redis beside their client-id claims (RedisClusterBus), read by
 * any process on that Redis (the API): an org's sessions by client-id range, each entry's edge checked
 * against the live leases so a dead edge's sessions are gone as soon as its lease is, even before an edge
 * reaps them; a kick goes to the holding edge's inbox, checked and published in one step.
 */
export class RedisSessionDirectory implements SessionDirectory {
  private readonly redis: Redis & { kick(client: string, edges: string, inbox: string, frame: string): Promise<number> };
  private readonly base: string;

  constructor(options: RedisSessionDirectoryOptions) {
    const redisOptions: RedisOptions = { maxRetriesPerRequest: 1, ...options.redis, lazyConnect: true };
    this.redis = (options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions)) as RedisSessionDirectory['redis'];
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('kick', { numberOfKeys: 2, lua: KICK_SCRIPT });
    this.base = `${options.keyPrefix ?? 'signet:'}cluster:`;
  }

  private clientKey(orgId: string, clientId: string): string {
    return `${this.base}client:${orgId}${SEP}${clientId}`;
  }

  private async connected(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
  }

  async list(orgId: string, query: SessionQuery): Promise<{ sessions: SessionRecord[]; more: boolean }> {
    await this.connected();
    const [time, leases] = await Promise.all([this.redis.time(), this.redis.zrange(`${this.base}edges`, 0, -1, 'WITHSCORES')]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const live = new Set<string>();
    for (let i = 0; i + 1 < leases.length; i += 2) if (Number(leases[i + 1]) > now) live.add(leases[i]);
    const keep = (r: SessionRecord | null): r is SessionRecord =>
      r !== null && live.has(r.edgeId) && (query.userId === undefined || r.userId === query.userId);
    if (query.clientId !== undefined) {
      if (query.after !== undefined && query.clientId <= query.after) return { sessions: [], more: false };
      const one = await this.read(orgId, [query.clientId]);
      return { sessions: one.filter(keep), more: false };
    }
    const index = `${this.base}sessions:${orgId}`;
    const found: SessionRecord[] = [];
    let from = query.after === undefined ? '-' : `(${query.after}`;
    for (;;) {
      const ids = await this.redis.zrangebylex(index, from, '+', 'LIMIT', 0, Math.max(query.limit + 1, query.userId === undefined ? 0 : SCAN_BATCH));
      if (ids.length === 0) return { sessions: found, more: false };
      for (const r of await this.read(orgId, ids)) {
        if (!keep(r)) continue;
        if (found.length === query.limit) return { sessions: found, more: true };
        found.push(r);
      }
      from = `(${ids[ids.length - 1]}`;
    }
  }

  /** The entries of these client ids, in their order (null where gone meanwhile), in one round trip. */
  private async read(orgId: string, clientIds: string[]): Promise<(SessionRecord | null)[]> {
    const pipeline = this.redis.pipeline();
    for (const id of clientIds) pipeline.hget(this.clientKey(orgId, id), 'session');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, value]) => (err ? null : decodeSession(value as string | null)));
  }

  async kick(orgId: string, clientId: string): Promise<boolean> {
    await this.connected();
    const frame = [KICK, orgId, clientId].join(SEP);
    return (await this.redis.kick(this.clientKey(orgId, clientId), `${this.base}edges`, `${this.base}inbox:`, frame)) === 1;
  }

  async close(): Promise<void> {
    if (this.redis.status === 'wait') return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
