import Redis, { Command, type RedisOptions } from 'ioredis';
import { topicMatches } from '@signet/permissions';
import { BatchWriter, decodeDurable, decodeFrame, decodeMessage, DURABLE, eachFrame, encodeMessage, encodeSession, GONE, KICK, ROUTE, SEP, TAKEOVER, writeMessage } from './frames';
import { CLAIM_SESSION, NOW, RedisSessionStore, sessionLua, storedSession } from './redis-session-store';
import {
  DEFAULT_LEASE_MS,
  SESSION_STORE_EDGE,
  type ClaimOptions,
  type ClaimResult,
  type ClusterBus,
  type ClusterMessage,
  type ClusterNode,
  type ReleaseEnd,
  type SharedRetained,
  type SharedSessions,
} from './types';

export interface ClusterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedisClusterBusOptions {
  edgeId: string;
  /** e.g. `redis://user:pass@host:6379/0`. */
  url?: string;
  /** ioredis options, merged over `url`. */
  redis?: RedisOptions;
  /** Prefix of every key and channel (default `signet:`); the bus adds `cluster:`. */
  keyPrefix?: string;
  /** How long a lease lasts without renewal (default {@link DEFAULT_LEASE_MS}); renewed every third of it. */
  leaseMs?: number;
  logger?: ClusterLogger;
}

/** Lua time in ms from the server's clock: one clock for every lease, whatever the edges' clocks say. */

/**
 * Ends edge `e`: its lease, routes and the client ids it still holds (with their session entries; a stored
 * session among them now waits for its client as after a disconnect, or ends if its credential was revoked
 * while `e` held it); the others are told. Needs `now` and sessionLua.
 */
const DROP_EDGE = `
local function drop(e, base, control, sep)
  redis.call('ZREM', KEYS[1], e)
  redis.call('DEL', base .. 'routes:' .. e)
  local held = redis.call('SMEMBERS', base .. 'clients:' .. e)
  for _, k in ipairs(held) do
    local cur = redis.call('HMGET', k, 'edge', 'org', 'cid')
    if cur[1] == e then
      redis.call('DEL', k)
      if cur[2] then
        redis.call('ZREM', base .. 'sessions:' .. cur[2], cur[3])
        s_park(cur[2], cur[3], now)
      end
    end
  end
  redis.call('DEL', base .. 'clients:' .. e)
  redis.call('PUBLISH', control, 'D' .. sep .. e)
end`;

/**
 * KEYS: edges. ARGV: edge, leaseMs, base, control, sep. Renews the lease (1: it was gone), reaps expired
 * edges and the stored sessions whose expiry passed.
 */
const HEARTBEAT = `${NOW}
${sessionLua('ARGV[3]', 'ARGV[4]', 'ARGV[5]')}
${DROP_EDGE}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, e in ipairs(dead) do drop(e, ARGV[3], ARGV[4], ARGV[5]) end
s_reap(now)
return added`;

/** KEYS: edges. ARGV: edge, base, control, sep. */
const LEAVE = `${NOW}
${sessionLua('ARGV[2]', 'ARGV[3]', 'ARGV[4]')}
${DROP_EDGE}
drop(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1`;

/** KEYS: the edge's routes. ARGV: member, 1|0, control, message. Published only when the set changed. */
const SET_ROUTE = `
local changed
if ARGV[2] == '1' then changed = redis.call('SADD', KEYS[1], ARGV[1]) else changed = redis.call('SREM', KEYS[1], ARGV[1]) end
if changed == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return changed`;

/**
 * KEYS: the client id's hash, edges, the epoch counter, this edge's held set, the org's session index.
 * ARGV: edge, owner, inbox channel prefix, takeover frame prefix, 1|0 (may take over another edge's),
 * org, client id, the session entry ('' none), then the stored session's part (CLAIM_SESSION: mode,
 * expiry, read limit), base, control, sep, and the credential id.
 * Refused ({0}) while another owner holds the id on a live edge (or anyone on another live edge, without
 * takeover); else the new epoch, and the previous live holder on another edge gets a takeover frame in its
 * inbox, in the same atomic step. The session entry is the claim's: written and indexed with it.
 */
const CLAIM = `${NOW}
${sessionLua('ARGV[12]', 'ARGV[13]', 'ARGV[14]')}
local cur = redis.call('HMGET', KEYS[1], 'edge', 'owner')
local live = false
if cur[1] then
  local lease = redis.call('ZSCORE', KEYS[2], cur[1])
  live = lease ~= false and tonumber(lease) > now
end
if live and (cur[2] ~= ARGV[2] or (ARGV[5] == '0' and cur[1] ~= ARGV[1])) then return {0} end
local epoch = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'edge', ARGV[1], 'owner', ARGV[2], 'epoch', epoch, 'org', ARGV[6], 'cid', ARGV[7], 'session', ARGV[8])
redis.call('SADD', KEYS[4], KEYS[1])
if ARGV[8] == '' then redis.call('ZREM', KEYS[5], ARGV[7]) else redis.call('ZADD', KEYS[5], 0, ARGV[7]) end
if live and cur[1] ~= ARGV[1] then redis.call('PUBLISH', ARGV[3] .. cur[1], ARGV[4] .. epoch) end
${CLAIM_SESSION}`;

/**
 * KEYS: the client id's hash, this edge's held set, the org's session index. ARGV: epoch, client id, what
 * happens to the stored session ('' nothing, 'park': it waits for a resume, 'drop': it ends), base, control,
 * sep, org, the edge keeping its delayed will ('' none), its expiry ms (5.0 DISCONNECT may change it), the
 * credential the session holds as it goes (re-authentication may have changed it since the claim).
 * Fenced: a newer claim is left alone.
 */
const RELEASE = `${NOW}
${sessionLua('ARGV[4]', 'ARGV[5]', 'ARGV[6]')}
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[2])
  if ARGV[3] == 'park' then
    s_park(ARGV[7], ARGV[2], now, ARGV[9], ARGV[10])
    if ARGV[8] ~= '' then redis.call('HSET', s_key(ARGV[7], ARGV[2]), 'parked', ARGV[8]) end
  elseif ARGV[3] == 'drop' then
    s_drop(ARGV[7], ARGV[2])
  end
  return 1
end
return 0`;

/** KEYS: the org's retained hash. ARGV: topic, frame ('' clears), limit. 1 stored or cleared, 0 over the limit. */
const RETAIN = `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

interface Scripted {
  retain(hash: string, topic: string, frame: Buffer | string, limit: number): Promise<number>;
  heartbeat(edges: string, edge: string, leaseMs: number, base: string, control: string, sep: string): Promise<number>;
  leave(edges: string, edge: string, base: string, control: string, sep: string): Promise<number>;
  setRoute(routes: string, member: string, present: '1' | '0', control: string, frame: string): Promise<number>;
  claimBuffer(
    client: string,
    edges: string,
    epoch: string,
    held: string,
    sessions: string,
    edge: string,
    owner: string,
    inbox: string,
    frame: string,
    takeover: '1' | '0',
    orgId: string,
    clientId: string,
    session: string,
    ...persist: string[]
  ): Promise<[number, Buffer | null, [Buffer, Buffer[]][] | null]>;
  release(client: string, held: string, sessions: string, epoch: number, clientId: string, ...end: string[]): Promise<number>;
}

/**
 * A PUBLISH written as it is: its RESP command built around the batch, in the room the batch's buffer keeps
 * for it (BatchWriter), so neither ioredis nor this side copies the batch once more.
 */
class RawPublish extends Command {
  constructor(private readonly wire: Buffer) {
    super('publish');
  }

  override toWritable(): Buffer {
    return this.wire;
  }
}

/** What a batch for `channel` needs before it: the RESP array up to the payload's length, which takeFramed writes. */
function publishHead(channel: string): Buffer {
  return Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$`);
}

/** Room for the payload length's digits and its CRLF. */
const LENGTH_ROOM = 12;

/** Writes the command whose prefix is `head` around the batch in [start, end) of `buffer`; returns it. */
function framePublish(head: Buffer, buffer: Buffer, start: number, end: number): Buffer {
  const digits = String(end - start);
  let at = start - 2 - digits.length;
  buffer.write(digits, at, 'latin1');
  buffer[start - 2] = 0x0d;
  buffer[start - 1] = 0x0a;
  at -= head.length;
  head.copy(buffer, at);
  buffer[end] = 0x0d;
  buffer[end + 1] = 0x0a;
  return buffer.subarray(at, end + 2);
}

const quiet: ClusterLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The cluster bus on Redis. Keys under `<prefix>cluster:`: `edges` (sorted set: edge id → lease end, on
 * Redis's clock), `routes:<edge>` (set of `org \0 filter`), `client:<org> \0 <client id>` (hash: edge,
 * owner, epoch, org, cid, and the session registry entry), `clients:<edge>` (the ids an edge holds, for
 * reaping), `sessions:<org>` (the org's registered client ids, a sorted set read by range for paging;
 * RedisSessionDirectory), `epoch` (counter), and the stored sessions (redis-session-store.ts). Channels:
 * `control` (route changes and departures: the small, rare control plane every edge hears) and
 * `inbox:<edge>` (messages for one edge: data goes only where a subscriber is).
 *
 * Pub/sub is at-most-once: a message sent while the receiving edge's subscriber connection is down is lost.
 */
export class RedisClusterBus implements ClusterBus {
  readonly edgeId: string;
  private readonly leaseMs: number;
  private readonly logger: ClusterLogger;
  private readonly redis: Redis & Scripted;
  private readonly sub: Redis;
  private readonly base: string;
  private readonly edgesKey: string;
  private readonly control: string;
  private readonly inboxPrefix: string;
  private readonly inbox: string;
  private readonly routes = new Set<string>();
  /** The other edges' routes as told to the node: what a resync after a lost subscription diffs against. */
  private heard = new Map<string, Set<string>>();
  private resyncing: Promise<void> | null = null;
  private node: ClusterNode | null = null;
  /** Control frames heard while the initial route snapshot is read, applied after it. */
  private backlog: Buffer[] | null = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Frames for each edge collected in this event-loop turn: one Redis PUBLISH per edge and turn. */
  private readonly outbox = new Map<string, { writer: BatchWriter; head: Buffer }>();
  /** Edges with frames waiting, in the order they got their first of this turn. */
  private readonly pending: { writer: BatchWriter; head: Buffer }[] = [];
  private readonly pendingIds: string[] = [];
  private flushScheduled = false;
  private lastMessage: ClusterMessage | null = null;
  private lastOrg = '';
  /** Where the last message's frame is (a batch of this turn): copied from there for the next edge. */
  private lastFrame: Buffer | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  private closed = false;
  /** Started: a lease found missing from now on was lost, not first taken. */
  private running = false;

  constructor(options: RedisClusterBusOptions) {
    if (options.edgeId === SESSION_STORE_EDGE || options.edgeId.includes(SEP)) throw new Error(`cluster bus: ${JSON.stringify(options.edgeId)} cannot be an edge id`);
    this.edgeId = options.edgeId;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.logger = options.logger ?? quiet;
    this.base = `${options.keyPrefix ?? 'signet:'}cluster:`;
    this.edgesKey = `${this.base}edges`;
    this.control = `${this.base}control`;
    this.inboxPrefix = `${this.base}inbox:`;
    this.inbox = this.inboxPrefix + this.edgeId;
    // No commandTimeout: it would arm a timer per forwarded message. A CONNECT whose claim hangs is closed by
    // the edge's connect timeout, and a command fails once its connection has dropped (maxRetriesPerRequest).
    const redisOptions: RedisOptions = {
      // Inbox batches skip it: they are written as they are (RawPublish), one per edge and turn already.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      ...options.redis,
      lazyConnect: true,
    };
    const make = (): Redis => (options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions));
    this.redis = make() as Redis & Scripted;
    this.sub = make();
    for (const conn of [this.redis, this.sub]) conn.on('error', (err: Error) => this.logger.warn({ err }, 'cluster bus: redis error'));
    this.redis.defineCommand('heartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    this.redis.defineCommand('leave', { numberOfKeys: 1, lua: LEAVE });
    this.redis.defineCommand('setRoute', { numberOfKeys: 1, lua: SET_ROUTE });
    this.redis.defineCommand('claim', { numberOfKeys: 5, lua: CLAIM });
    this.redis.defineCommand('release', { numberOfKeys: 3, lua: RELEASE });
    this.redis.defineCommand('retain', { numberOfKeys: 1, lua: RETAIN });
    this.sessions = new RedisSessionStore(this.redis, this.base, this.control, (err, what) => this.logger.warn({ err }, `cluster bus: ${what}`));
  }

  readonly sessions: SharedSessions;

  /**
   * Retained messages: a hash per org (`retained:<org>`, field = topic), so a topic is one HGET and a clear
   * one HDEL; a wildcard filter reads the org's hash (at most maxRetainedPerOrg entries) and matches here.
   * A stored frame's `ttlMs` holds the absolute expiry (ms since the epoch), so the time left is right
   * whenever it is read.
   */
  readonly retained: SharedRetained = {
    set: async (orgId, message, limit) => {
      const hash = `${this.base}retained:${orgId}`;
      if (message.payload.length === 0) return (await this.redis.retain(hash, message.topic, '', limit)) === 1;
      const stored: ClusterMessage = { ...message, ...(message.ttlMs !== undefined ? { ttlMs: Date.now() + message.ttlMs } : {}) };
      return (await this.redis.retain(hash, message.topic, encodeMessage(orgId, stored), limit)) === 1;
    },
    match: async (orgId, filter) => {
      const hash = `${this.base}retained:${orgId}`;
      const now = Date.now();
      const found: ClusterMessage[] = [];
      const expired: string[] = [];
      const take = (topic: string, frame: Buffer | null): void => {
        const decoded = frame === null ? null : decodeMessage(frame);
        if (decoded === null) return;
        const { ttlMs: until, ...message } = decoded.message;
        if (until === undefined) found.push(message);
        else if (until > now) found.push({ ...message, ttlMs: until - now });
        else expired.push(topic);
      };
      if (!filter.includes('+') && !filter.includes('#')) {
        take(filter, await this.redis.hgetBuffer(hash, filter));
      } else {
        const all = await this.redis.hgetallBuffer(hash);
        for (const [topic, frame] of Object.entries(all)) if (topicMatches(filter, topic)) take(topic, frame);
      }
      // Expired retained messages are purged when a subscription finds them, as on one edge.
      if (expired.length > 0) this.redis.hdel(hash, ...expired).catch(() => undefined);
      return found;
    },
  };

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
    await Promise.all([this.redis.connect(), this.sub.connect()]);
    // What an earlier process with this id left (a pod restarted before its lease ran out) goes first: its
    // routes would draw traffic for nobody, and its client ids would stay held under a lease now renewed.
    await this.redis.leave(this.edgesKey, this.edgeId, this.base, this.control, SEP);
    await this.beat();
    this.sub.on('messageBuffer', (channel: Buffer, frame: Buffer) => this.onFrame(channel.toString(), frame));
    await this.sub.subscribe(this.control, this.inbox);
    await this.resync();
    // Pub/sub misses what is published while its connection is down: after a reconnect the route table is
    // read again and the difference told to the node.
    this.sub.on('ready', () => {
      if (this.closed || this.resyncing !== null) return;
      this.backlog ??= [];
      this.resyncing = this.sub
        .subscribe(this.control, this.inbox)
        .then(() => this.resync())
        .catch((err: unknown) => {
          this.backlog = null;
          this.logger.warn({ err }, 'cluster bus: route resync failed');
        })
        .finally(() => {
          this.resyncing = null;
        });
    });
    this.running = true;
    this.heartbeatTimer = setInterval(() => void this.beat(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.heartbeatTimer.unref();
  }

  /**
   * Reads the live edges' routes (after subscribing, so no change is missed) and tells the node what differs
   * from what it was told; changes heard meanwhile are applied after it (a removal then wins over a snapshot
   * that still had the route).
   */
  private async resync(): Promise<void> {
    const node = this.node!;
    const fresh = new Map<string, Set<string>>();
    for (const edge of await this.redis.zrange(this.edgesKey, 0, -1)) {
      if (edge !== this.edgeId) fresh.set(edge, new Set(await this.redis.smembers(`${this.base}routes:${edge}`)));
    }
    const told = this.heard;
    this.heard = fresh;
    for (const [edge, keys] of told) {
      const now = fresh.get(edge);
      if (now === undefined) node.edgeGone(edge);
      else for (const key of keys) if (!now.has(key)) this.tell(node, edge, key, false);
    }
    for (const [edge, keys] of fresh) {
      const before = told.get(edge);
      for (const key of keys) if (before === undefined || !before.has(key)) this.tell(node, edge, key, true);
    }
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const frame of backlog) this.onControl(frame);
  }

  private tell(node: ClusterNode, edge: string, key: string, present: boolean): void {
    const sep = key.indexOf(SEP);
    node.routeChanged(edge, key.slice(0, sep), key.slice(sep + 1), present);
  }

  /** Renews the lease and reaps expired edges. A lease found gone (reaped while this edge stalled) is taken again with its routes. */
  private async beat(): Promise<void> {
    try {
      const added = await this.redis.heartbeat(this.edgesKey, this.edgeId, this.leaseMs, this.base, this.control, SEP);
      // Added while running: the lease was gone (reaped after a stall, or Redis lost its data).
      if (added === 1 && this.running) {
        this.logger.warn({ edgeId: this.edgeId }, 'cluster bus: lease had been lost; routes and client ids claimed again');
        for (const key of this.routes) this.publishRoute(key, true);
        this.node?.rejoined();
      }
    } catch (err) {
      if (!this.closed) this.logger.warn({ err }, 'cluster bus: heartbeat failed');
    }
  }

  private onFrame(channel: string, frame: Buffer): void {
    if (channel === this.inbox) this.onInbox(frame);
    else if (channel === this.control) {
      if (this.backlog !== null) this.backlog.push(frame);
      else this.onControl(frame);
    }
  }

  private onInbox(received: Buffer): void {
    eachFrame(received, this.onInboxFrame);
  }

  /** Where decodeFrame leaves each inbox frame's org id. */
  private readonly decoded = { orgId: '' };

  private readonly onInboxFrame = (batch: Buffer, start: number, end: number): void => {
    const node = this.node;
    if (node === null || this.closed) return;
    const message = decodeFrame(batch, start, end, this.decoded);
    if (message !== null) return node.deliver(this.decoded.orgId, message);
    const decoded = decodeMessage(batch, start, end);
    if (decoded !== null) return node.deliver(decoded.orgId, decoded.message);
    const frame = batch.subarray(start, end);
    if (frame[0] === TAKEOVER.charCodeAt(0)) {
      const [, orgId, clientId, epoch] = frame.toString().split(SEP);
      node.takenOver(orgId, clientId, Number(epoch));
      return;
    }
    if (frame[0] === DURABLE.charCodeAt(0)) {
      const durable = decodeDurable(frame);
      if (durable !== null) node.durable(durable.orgId, durable.clientId, durable.ref, durable.qos, durable.message);
      else this.logger.warn({ bytes: frame.length }, 'cluster bus: undecodable durable frame dropped');
      return;
    }
    if (frame[0] === KICK.charCodeAt(0)) {
      const [, orgId, clientId] = frame.toString().split(SEP);
      if (orgId !== undefined && clientId !== undefined) node.kick(orgId, clientId);
      return;
    }
    this.logger.warn({ bytes: frame.length }, 'cluster bus: undecodable inbox frame dropped');
  };

  private onControl(frame: Buffer): void {
    const node = this.node;
    if (node === null || this.closed) return;
    const parts = frame.toString().split(SEP);
    if (parts[0] === ROUTE && parts.length === 5) {
      const [, edge, orgId, filter, flag] = parts;
      if (edge === this.edgeId) return;
      const key = orgId + SEP + filter;
      let keys = this.heard.get(edge);
      if (flag === '1') {
        if (keys === undefined) this.heard.set(edge, (keys = new Set()));
        keys.add(key);
      } else {
        keys?.delete(key);
      }
      node.routeChanged(edge, orgId, filter, flag === '1');
    } else if (parts[0] === GONE && parts.length === 2) {
      if (parts[1] === this.edgeId) return;
      this.heard.delete(parts[1]);
      if (this.outbox.get(parts[1])?.writer.count === 0) this.outbox.delete(parts[1]);
      node.edgeGone(parts[1]);
    }
  }

  private publishRoute(key: string, present: boolean): void {
    const frame = [ROUTE, this.edgeId, key, present ? '1' : '0'].join(SEP);
    this.redis
      .setRoute(`${this.base}routes:${this.edgeId}`, key, present ? '1' : '0', this.control, frame)
      .catch((err: unknown) => this.logger.warn({ err }, 'cluster bus: route update failed'));
  }

  setRoute(orgId: string, filter: string, present: boolean): void {
    if (this.closed) return;
    const key = orgId + SEP + filter;
    if (present) this.routes.add(key);
    else this.routes.delete(key);
    this.publishRoute(key, present);
  }

  send(edgeId: string, orgId: string, message: ClusterMessage): void {
    if (this.closed) return;
    let out = this.outbox.get(edgeId);
    if (out === undefined) {
      const head = publishHead(this.inboxPrefix + edgeId);
      this.outbox.set(edgeId, (out = { writer: new BatchWriter(head.length + LENGTH_ROOM, 2), head }));
    }
    const writer = out.writer;
    if (writer.count === 0) {
      this.pending.push(out);
      this.pendingIds.push(edgeId);
    }
    // The edge sends one message to each interested edge in a row: encoded once, into the first one's batch.
    if (message !== this.lastMessage || orgId !== this.lastOrg || this.lastFrame === null) {
      writeMessage(writer, orgId, message);
      this.lastFrame = writer.buffer;
      this.lastStart = writer.lastStart;
      this.lastEnd = writer.lastEnd;
      this.lastMessage = message;
      this.lastOrg = orgId;
    } else {
      writer.push(this.lastFrame, this.lastStart, this.lastEnd);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Hands each edge's frames of this turn to Redis as one message (the edge's own write batching, on the bus). */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.lastMessage = this.lastFrame = null;
    const { pending, pendingIds } = this;
    for (let i = 0; i < pending.length; i++) {
      const edgeId = pendingIds[i];
      const { writer, head } = pending[i];
      writer.takeFramed((buffer, start, end) => {
        const command = new RawPublish(framePublish(head, buffer, start, end));
        void this.redis.sendCommand(command);
        // Answered, Redis has read all of it: the buffer is free. Not after a failure (a write may be pending).
        (command.promise as Promise<unknown>).then(
          () => writer.release(buffer),
          (err: unknown) => this.logger.warn({ err, edgeId }, 'cluster bus: send failed, messages dropped'),
        );
      });
    }
    pending.length = 0;
    pendingIds.length = 0;
  };

  private clientKey(orgId: string, clientId: string): string {
    return `${this.base}client:${orgId}${SEP}${clientId}`;
  }

  async claim(orgId: string, clientId: string, owner: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const frame = [TAKEOVER, orgId, clientId, ''].join(SEP);
    const persist = options.persist;
    const [epoch, subs, entries] = await this.redis.claimBuffer(
      this.clientKey(orgId, clientId),
      this.edgesKey,
      `${this.base}epoch`,
      `${this.base}clients:${this.edgeId}`,
      `${this.base}sessions:${orgId}`,
      this.edgeId,
      owner,
      this.inboxPrefix,
      frame,
      options.takeover === false ? '0' : '1',
      orgId,
      clientId,
      options.session === undefined ? '' : encodeSession(options.session),
      persist === undefined ? '' : persist.resume ? 'r' : 'c',
      String(persist?.expiryMs ?? 0),
      String(persist?.limit ?? 0),
      this.base,
      this.control,
      SEP,
      persist?.credentialId ?? '',
    );
    if (epoch === 0) return { ok: false };
    if (subs === null || entries === null) return { ok: true, epoch };
    return { ok: true, epoch, stored: storedSession(subs, entries) };
  }

  release(orgId: string, clientId: string, epoch: number, end?: ReleaseEnd): void {
    if (this.closed) return;
    const mode = end === undefined ? '' : end.expiryMs > 0 ? 'park' : 'drop';
    const willEdge = end?.willHere === true && end.expiryMs > 0 ? this.edgeId : '';
    this.redis
      .release(
        this.clientKey(orgId, clientId),
        `${this.base}clients:${this.edgeId}`,
        `${this.base}sessions:${orgId}`,
        epoch,
        clientId,
        mode,
        this.base,
        this.control,
        SEP,
        orgId,
        willEdge,
        String(end?.expiryMs ?? 0),
        end?.credentialId ?? '',
      )
      .catch((err: unknown) => this.logger.warn({ err }, 'cluster bus: release failed'));
  }

  async close(options: { release?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    // What was sent before close goes out (a killed process would lose it; a closing one need not).
    if (options.release !== false) this.flush();
    else {
      for (const { writer } of this.pending) writer.take();
      this.pending.length = this.pendingIds.length = 0;
    }
    this.closed = true;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    try {
      if (options.release !== false && this.node !== null) await this.redis.leave(this.edgesKey, this.edgeId, this.base, this.control, SEP);
    } catch (err) {
      this.logger.warn({ err }, 'cluster bus: leave failed; the lease will expire');
    }
    this.sub.disconnect();
    if (options.release !== false) await this.redis.quit().catch(() => undefined);
    else this.redis.disconnect();
  }
}
