import type { StoredSession } from '@signet/mqtt-cluster';
import type { QoS } from 'mqtt-packet';

import { TokenBucketLimiter } from '@signet/rate-limit';

import { ClusterLink, type ClusterHost } from './cluster';
import { resolveLimits, type EdgeLimits } from './limits';
import { UnauthenticatedBudget } from './unauthenticated-budget';
import { innerFilter, ownPayload, type ForwardedProperties, type Message, type SubscriptionOptions } from './message';
import { Qos0Frames } from './outbound';
import { credentialExpired, type ConnectAuthenticator, type Principal } from './principal';
import { RESULT_TOPIC } from './reserved';
import { Org, ownerOf, Session, type ClientLink, type SessionOwner, type Will } from './session';
import { TimerWheel } from './timer-wheel';
import type { DisconnectReason, EdgeHooks, EdgeLogger, EdgeOptions, EdgeStats } from './types';
import { WritePressure } from './write-pressure';

const noop = (): void => undefined;

/** A will's 5.0 properties as PUBLISH properties: Will Delay is not one, and expiry is recomputed on send. */
function willProperties(props: Will['properties']): ForwardedProperties | undefined {
  if (!props) return undefined;
  const { willDelayInterval: _d, messageExpiryInterval: _e, ...rest } = props;
  return Object.keys(rest).length > 0 ? rest : undefined;
}
/** revoke() closing at most this many connections ends their sockets at once (see revoke). */
const REVOKE_INLINE_FLUSH_MAX = 16;

const SILENT: EdgeLogger = { info: noop, warn: noop, error: noop, debug: noop };

/** How a connection wants its session: decided from CONNECT before it is attached. */
export interface SessionRequest {
  clientId: string;
  cleanStart: boolean;
  expiryMs: number;
}

/**
 * The transport-independent core: orgs, sessions, routing, the shared timer
 * and the write batching. Connections call into it through ClientLink; MqttEdge is its public face.
 */
export class Broker implements SessionOwner, ClusterHost {
  readonly limits: EdgeLimits;
  readonly authenticator: ConnectAuthenticator;
  readonly logger: EdgeLogger;
  readonly hooks: EdgeHooks;
  readonly now: () => number;
  /** Coarse clock, refreshed by every sweep and CONNECT (tick): good enough for keepalive and expiry. */
  clock: number;
  /** QoS 0 PUBLISH frames shared by every subscriber of one routed message (outbound.ts). */
  readonly qos0Frames = new Qos0Frames();
  readonly wheel: TimerWheel;
  /** Write batching and the slow-consumer watch. */
  readonly writes: WritePressure;
  readonly connections = new Set<ClientLink>();
  /** The edge's side of the cluster bus (EdgeOptions.cluster); null for an edge on its own. */
  readonly cluster: ClusterLink | null;
  closing = false;

  private readonly orgs = new Map<string, Org>();
  /** credentialId → sessions held under it, live or offline: revocation is O(its sessions). */
  private readonly byCredential = new Map<string, Set<Session>>();
  /**
   * The one revoked-set the edge consults: the deny set given as EdgeOptions.revoked, or else the ids
   * revoke() was given, each remembered for revokeMemoryMs.
   */
  private readonly revoked: { has(credentialId: string): boolean };
  /** The ids revoke() remembers when no deny set is given; null when one is. */
  private readonly recentlyRevoked: Map<string, number> | null;
  /** Remote address → open sockets from it (maxConnectionsPerIp); updated on accept and close only. */
  private readonly perAddress = new Map<string, number>();
  /** Bytes held for connections that have not authenticated yet (maxUnauthenticatedBytes[PerIp]). */
  readonly unauthenticated: UnauthenticatedBudget;
  /** Connect rate per remote address (before authentication) and per authenticated owner. */
  readonly ipConnectRate: TokenBucketLimiter;
  readonly identityConnectRate: TokenBucketLimiter;
  private sessionCount = 0;
  private lastPrune = 0;
  private lastBucketPrune = 0;

  private sweepTimer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];

  /**
   * The stats counters: a plain record that the connections and handlers increment where they count (a
   * field increment on the packet path, no call) and stats() reads. Nothing else of the broker is written
   * from outside it.
   */
  readonly counters = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectsAccepted: 0,
    connectsRefused: 0,
    publishDenied: 0,
    subscribeDenied: 0,
    messagesDropped: 0,
    slowConsumers: 0,
  };

  constructor(options: EdgeOptions) {
    this.limits = resolveLimits(options.limits);
    this.authenticator = options.authenticator;
    this.logger = options.logger ?? SILENT;
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? Date.now;
    this.clock = this.now();
    this.recentlyRevoked = options.revoked === undefined ? new Map() : null;
    this.revoked = options.revoked ?? this.recentlyRevoked!;
    this.wheel = new TimerWheel(this.limits.sweepIntervalMs, this.clock);
    this.unauthenticated = new UnauthenticatedBudget(this.limits);
    this.writes = new WritePressure(this.limits, this.logger, () => this.clock, () => this.counters.slowConsumers++);
    this.ipConnectRate = new TokenBucketLimiter({ ratePerSecond: this.limits.connectRatePerIp, burst: this.limits.connectBurstPerIp });
    this.identityConnectRate = new TokenBucketLimiter({ ratePerSecond: this.limits.connectRatePerIdentity, burst: this.limits.connectBurstPerIdentity });
    // A bus that is alone (a lone in-process edge) has nothing to share: no link, so nothing of it on any path.
    this.cluster = options.cluster && options.cluster.alone !== true ? new ClusterLink(options.cluster, this) : null;
  }

  /** Refreshes the coarse clock from the real one (per CONNECT and sweep, not per packet) and returns it. */
  tick(): number {
    return (this.clock = this.now());
  }

  startSweep(): void {
    if (this.sweepTimer !== null) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.limits.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * One pass of the shared timer: connect timeouts, keepalive, credential expiry, session expiry, wills,
   * slow consumers; idle connect-rate buckets once a second.
   */
  sweep(): void {
    const now = this.tick();
    this.wheel.advance(now, (err) => this.logger.error({ err }, 'mqtt edge timer handler failed'));
    this.writes.sweep(now);
    if (now - this.lastBucketPrune >= 1000) {
      this.lastBucketPrune = now;
      this.ipConnectRate.prune(now);
      this.identityConnectRate.prune(now);
    }
    if (now - this.lastPrune >= 60_000) {
      this.lastPrune = now;
      // Empty orgs are pruned here rather than when their last session ends, so that no code
      // holding an Org across a call (attach, takeover) ever writes into a detached one.
      for (const [id, org] of this.orgs) {
        if (org.sessions.size === 0 && org.retained.size === 0 && org.subscriptions.size === 0 && org.remote === null && org.durable === null) {
          this.orgs.delete(id);
        }
      }
    }
    const recent = this.recentlyRevoked;
    if (recent !== null && recent.size > 0) {
      for (const [id, until] of recent) if (until <= now) recent.delete(id);
    }
  }

  // ---------------------------------------------------------------- connections

  /** A connection opened; `conn.remoteKey` is already read (uWS must not be asked after close). */
  register(conn: ClientLink): void {
    this.connections.add(conn);
    const address = conn.remoteKey;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.startSweep();
  }

  unregister(conn: ClientLink): void {
    if (!this.connections.delete(conn)) return;
    const address = conn.remoteKey;
    const open = (this.perAddress.get(address) ?? 1) - 1;
    if (open <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, open);
    if (this.connections.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Open sockets from `address`, this connection included once registered. */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Resolves once every socket has closed. */
  whenNoConnections(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Why `principal` may not hold a session at `now`, or null: the one expiry and revocation check of a
   * credential when it is presented (CONNECT, re-authentication). A live session's expiry is its timer's
   * (Connection.onTimer, through credentialExpired).
   */
  credentialRefusal(principal: Principal, now: number): 'credential expired' | 'credential revoked' | null {
    if (credentialExpired(principal, now)) return 'credential expired';
    if (this.revoked.has(principal.credentialId)) return 'credential revoked';
    return null;
  }

  // ---------------------------------------------------------------- sessions

  org(orgId: string): Org {
    let org = this.orgs.get(orgId);
    if (org === undefined) {
      org = new Org(orgId, this);
      if (this.cluster !== null) org.interest = new Map();
      this.orgs.set(orgId, org);
    }
    return org;
  }

  findOrg(orgId: string): Org | undefined {
    return this.orgs.get(orgId);
  }

  interestChanged(org: Org, filter: string, present: boolean): void {
    this.cluster?.interestChanged(org, filter, present);
  }

  *liveSessions(): Iterable<Session> {
    for (const conn of this.connections) {
      const session = conn.session;
      if (session !== null && session.connection === conn) yield session;
    }
  }

  /**
   * An administrator's kick (DELETE /v1/sessions/{client_id}): the live connection of the client id is
   * closed with 5.0 DISCONNECT 0x98 Administrative action, its will published as for any server-side close;
   * its session state stays, for its session expiry. False when the client id has no live connection here.
   */
  kick(orgId: string, clientId: string): boolean {
    const conn = this.orgs.get(orgId)?.sessions.get(clientId)?.connection;
    if (conn == null) return false;
    conn.kick(0x98, 'administrative_action', true);
    // Out now, as a small revoke is: the kick's answer should not wait for the next batched flush.
    this.flushNow(conn);
    return true;
  }

  /** Writes a connection's queued packets at once, outside the batched flush; a failed write is logged, not thrown. */
  private flushNow(conn: ClientLink): void {
    try {
      conn.flush();
    } catch (err) {
      this.logger.error({ err }, 'mqtt edge flush failed');
    }
  }

  /** Another edge took over this session's client id (core/cluster.ts): as a local takeover, but the state does not move. */
  takenOver(session: Session): void {
    session.connection?.kick(0x8e, 'taken_over', true);
    // The client is on the other edge now; a delayed will is cancelled as by a resume [MQTT-3.1.3-9].
    this.destroySession(session, false);
  }

  /**
   * Gives `conn` its session: resumes the existing one or starts a new one,
   * taking over a live connection with the same client id in the org
   * [MQTT-3.1.4-2/3]. Returns null when the client id is live under another
   * owner: users of one org do not get to kick each other out. `epoch`: the cluster's claim of the client
   * id for this connection (0 without a cluster).
   */
  attach(
    conn: ClientLink,
    principal: Principal,
    request: SessionRequest,
    epoch = 0,
    stored?: StoredSession,
  ): { session: Session; sessionPresent: boolean } | null {
    if (this.cluster?.sessions !== undefined) return this.attachStored(conn, principal, request, epoch, stored);
    const org = this.org(principal.orgId);
    const owner = ownerOf(principal);
    let existing = org.sessions.get(request.clientId);
    if (existing !== undefined && existing.connection !== null) {
      if (existing.owner !== owner) return null;
      existing.connection.kick(0x8e, 'taken_over', true);
      existing = org.sessions.get(request.clientId);
    }
    let session: Session;
    let sessionPresent = false;
    if (existing !== undefined && !request.cleanStart && existing.owner === owner) {
      session = existing;
      sessionPresent = true;
      this.wheel.cancel(session);
      // Reconnected before the Will Delay Interval elapsed: the will is not sent [MQTT-3.1.3-9].
      session.pendingWill = null;
      session.willAt = Infinity;
      session.expiresAt = Infinity;
      if (session.credentialId !== principal.credentialId) {
        this.unindex(session);
        session.credentialId = principal.credentialId;
        this.index(session);
      }
      this.revalidate(session, principal);
    } else {
      // Clean start, or another owner's offline session: it ends (its pending will goes out) [MQTT-3.1.2-4].
      if (existing !== undefined) this.destroySession(existing, true);
      session = this.newSession(org, request.clientId, principal, owner);
    }
    this.connectSession(session, conn, request, epoch);
    return { session, sessionPresent };
  }

  private newSession(org: Org, clientId: string, principal: Principal, owner: string): Session {
    const session = new Session(org, clientId, principal.credentialId, owner);
    org.sessions.set(clientId, session);
    this.index(session);
    this.sessionCount++;
    return session;
  }

  private connectSession(session: Session, conn: ClientLink, request: SessionRequest, epoch: number): void {
    session.expiryMs = request.expiryMs;
    session.connection = conn;
    session.epoch = epoch;
  }

  /**
   * attach() in a cluster that stores sessions: the session is made from what the claim read (`stored`),
   * never from this edge's memory, which holds at most a session kept for its delayed will. The stored
   * queue holds what was in flight on the last connection too: all of it is sent as new messages.
   */
  private attachStored(
    conn: ClientLink,
    principal: Principal,
    request: SessionRequest,
    epoch: number,
    stored: StoredSession | undefined,
  ): { session: Session; sessionPresent: boolean } | null {
    const org = this.org(principal.orgId);
    const owner = ownerOf(principal);
    const existing = org.sessions.get(request.clientId);
    if (existing !== undefined && existing.connection !== null) {
      if (existing.owner !== owner) return null;
      existing.connection.kick(0x8e, 'taken_over', true);
    }
    // The kick may have ended it (detach): what is left now, if anything.
    const left = org.sessions.get(request.clientId);
    // A resume cancels a delayed will [MQTT-3.1.3-9]; a clean start ends the session, and its will goes [MQTT-3.1.2-4].
    if (left !== undefined) this.destroySession(left, request.cleanStart);
    const session = this.newSession(org, request.clientId, principal, owner);
    this.connectSession(session, conn, request, epoch);
    session.stored = request.expiryMs > 0;
    if (stored !== undefined) this.cluster!.restore(session, stored, principal.permissions);
    return { session, sessionPresent: stored !== undefined };
  }

  /**
   * A live session re-authenticated with a new credential of the same owner
   * (handlers/auth.ts): revocation now names the new credential, and what the new
   * grants no longer cover is dropped.
   */
  reauthenticated(session: Session, principal: Principal): void {
    if (session.credentialId !== principal.credentialId) {
      this.unindex(session);
      session.credentialId = principal.credentialId;
      this.index(session);
    }
    this.revalidate(session, principal);
  }

  /**
   * A resumed session may come with a new credential whose grants differ:
   * subscriptions and pending messages it no longer covers are dropped.
   */
  private revalidate(session: Session, principal: Principal): void {
    const permissions = principal.permissions;
    const subscriptions = session.subscriptions;
    if (subscriptions !== null) for (const filter of subscriptions.keys()) {
      // The refresh result topic is every session's own, whatever its grants (handlers/auth.ts). A shared
      // subscription is checked on its inner filter, as at SUBSCRIBE.
      if (!permissions.canSubscribe(innerFilter(filter)) && filter !== RESULT_TOPIC) {
        subscriptions.delete(filter);
        session.org.unsubscribe(session, filter);
        if (session.stored) this.cluster!.storeSubscription(session, filter, null);
      }
    }
    if (session.queue !== null) {
      session.queue = session.queue.filter((q) => {
        if (permissions.canSubscribe(q.message.topic)) return true;
        if (q.ref !== null) this.cluster!.acknowledge(session, q.ref);
        return false;
      });
      if (session.queue.length === 0) session.queue = null;
    }
    if (session.inflight !== null) {
      for (const [id, entry] of session.inflight) {
        if (entry.phase === 0 && !permissions.canSubscribe(entry.message.topic)) session.inflight.delete(id);
      }
    }
  }

  /**
   * After CONNACK: resend unacknowledged messages with DUP and their identifiers [MQTT-4.4.0-1], then the
   * queue. PUBRELs always go; PUBLISHes only up to the client's Receive Maximum of this connection, which may
   * be smaller than the last one's [MQTT-3.3.4-9]: the rest wait as `pending` for acknowledgements.
   */
  resume(session: Session, conn: ClientLink): void {
    session.resendPending = false;
    if (session.inflight !== null) {
      let outstanding = 0;
      for (const [id, entry] of session.inflight) {
        entry.pending = false;
        if (entry.phase === 1) {
          conn.sendPubrel(id);
          outstanding++;
        } else if (outstanding >= conn.sendQuota) {
          entry.pending = true;
          session.resendPending = true;
        } else if (conn.sendPublish(entry.message, entry.qos, entry.retain, id, true, entry.ids)) outstanding++;
        else session.inflight.delete(id);
      }
    }
    this.drain(session);
  }

  /** Re-sends `pending` in-flight PUBLISHes as the window allows (see resume). True when none is left. */
  private resendPending(session: Session, conn: ClientLink): boolean {
    const inflight = session.inflight;
    if (inflight === null) return true;
    // A pending entry the client acknowledged with PUBREC anyway is in its PUBREL phase: never re-sent [MQTT-4.3.3-6].
    let outstanding = 0;
    for (const entry of inflight.values()) if (!entry.pending || entry.phase === 1) outstanding++;
    let left = false;
    for (const [id, entry] of inflight) {
      if (!entry.pending) continue;
      if (entry.phase === 1) {
        entry.pending = false;
        continue;
      }
      if (outstanding >= conn.sendQuota) {
        left = true;
        break;
      }
      entry.pending = false;
      if (conn.sendPublish(entry.message, entry.qos, entry.retain, id, true, entry.ids)) outstanding++;
      else inflight.delete(id);
    }
    session.resendPending = left;
    return !left;
  }

  /** The connection of a session is gone. */
  detach(conn: ClientLink, will: Will | null, willDelayMs: number, reason: DisconnectReason): void {
    const session = conn.session;
    if (session === null) return;
    const current = session.connection === conn;
    if (current) {
      session.connection = null;
      if (session.epoch !== 0) {
        const end = session.stored ? { expiryMs: session.expiryMs, willHere: will !== null && willDelayMs > 0 } : undefined;
        this.cluster!.release(session, end);
      }
    }
    const hook = this.hooks.disconnected;
    if (hook !== undefined && conn.principal !== null) {
      hook({ principal: conn.principal, clientId: session.clientId, reason });
    }
    if (session.destroyed) return;
    if (session.expiryMs === 0) {
      this.destroySession(session, false);
      if (will !== null) this.publishWill(session.org, will);
      return;
    }
    if (session.stored && current) return this.leaveToStore(session, will, willDelayMs);
    const now = this.now();
    session.expiresAt = now + session.expiryMs;
    if (will !== null) {
      if (willDelayMs > 0) {
        session.pendingWill = will;
        session.willAt = now + willDelayMs;
        session.pendingWillOnEnd = conn.principal?.willOnEnd === 'publish';
      } else {
        this.publishWill(session.org, will);
      }
    }
    this.wheel.schedule(session, Math.min(session.expiresAt, session.willAt));
  }

  /**
   * A stored session's connection is gone: the shared store keeps it for any edge to resume, so nothing of it
   * stays here but a delayed will, kept until it is due (or a resume anywhere cancels it).
   */
  private leaveToStore(session: Session, will: Will | null, willDelayMs: number): void {
    if (will === null || willDelayMs === 0) {
      this.destroySession(session, false);
      if (will !== null) this.publishWill(session.org, will);
      return;
    }
    this.dropState(session);
    session.pendingWill = will;
    session.willAt = session.expiresAt = this.now() + Math.min(willDelayMs, session.expiryMs);
    session.pendingWillOnEnd = false;
    this.wheel.schedule(session, session.willAt);
  }

  sessionTimer(session: Session, now: number): void {
    if (session.connection !== null || session.destroyed) return;
    if (session.pendingWill !== null && now >= session.willAt) {
      const will = session.pendingWill;
      session.pendingWill = null;
      session.willAt = Infinity;
      this.publishWill(session.org, will);
    }
    if (now >= session.expiresAt) this.destroySession(session, true);
    else this.wheel.schedule(session, Math.min(session.expiresAt, session.willAt));
  }

  /** Ends a session: its subscriptions leave the routing table; a pending will goes out if asked. */
  destroySession(session: Session, publishPendingWill: boolean): void {
    if (session.destroyed) return;
    session.destroyed = true;
    this.sessionCount--;
    if (session.epoch !== 0) this.cluster!.release(session);
    this.wheel.cancel(session);
    const org = session.org;
    this.dropState(session);
    if (org.sessions.get(session.clientId) === session) org.sessions.delete(session.clientId);
    this.unindex(session);
    const will = session.pendingWill;
    session.pendingWill = null;
    if (will !== null && publishPendingWill) this.publishWill(org, will);
  }

  /** The session's subscriptions leave the routing table; its messages and QoS 2 identifiers are dropped. */
  private dropState(session: Session): void {
    if (session.subscriptions !== null) {
      for (const filter of session.subscriptions.keys()) session.org.unsubscribe(session, filter);
      session.subscriptions = null;
    }
    session.inflight = null;
    session.queue = null;
    session.awaitingRel = null;
  }

  private index(session: Session): void {
    let set = this.byCredential.get(session.credentialId);
    if (set === undefined) {
      set = new Set();
      this.byCredential.set(session.credentialId, set);
    }
    set.add(session);
  }

  private unindex(session: Session): void {
    const set = this.byCredential.get(session.credentialId);
    if (set === undefined) return;
    set.delete(session);
    if (set.size === 0) this.byCredential.delete(session.credentialId);
  }

  /**
   * Closes the live sessions of these credentials (5.0: DISCONNECT 0x98) and
   * ends their session state, offline sessions included: subscriptions,
   * queued and in-flight messages are dropped, so nothing waits for the
   * revoked credential. Wills follow the org's policy carried by the
   * credential (`Principal.willOnEnd`): `publish` sends the connect-time or
   * pending will now (a Will Delay no longer applies: the session ends
   * here), after every session of these credentials is gone, so none of
   * them receives one; otherwise they are discarded. Without a deny set
   * (EdgeOptions.revoked) the ids are remembered for `revokeMemoryMs` so that
   * a CONNECT whose authentication was already in flight is refused too. Returns the number of live connections closed.
   */
  revoke(credentialIds: Iterable<string>): number {
    const until = this.now() + this.limits.revokeMemoryMs;
    let closed = 0;
    let kicked: ClientLink[] | null = null;
    let wills: { org: Org; will: Will }[] | null = null;
    const recent = this.recentlyRevoked;
    for (const id of credentialIds) {
      recent?.set(id, until);
      const set = this.byCredential.get(id);
      if (set === undefined) continue;
      this.byCredential.delete(id);
      for (const session of set) {
        const conn = session.connection;
        let will: Will | null = null;
        if (conn !== null) {
          if (conn.principal?.willOnEnd === 'publish') will = conn.takeWill();
          // The session ends with it, in a cluster's shared store too (detach releases it so).
          session.expiryMs = 0;
          conn.kick(0x98, 'revoked', false);
          if (++closed <= REVOKE_INLINE_FLUSH_MAX) (kicked ??= []).push(conn);
        } else if (session.pendingWillOnEnd) {
          will = session.pendingWill;
        }
        this.destroySession(session, false);
        if (will !== null) (wills ??= []).push({ org: session.org, will });
      }
    }
    // A revoke of a few sessions (one token: usually one) writes the DISCONNECT and ends the socket now
    // rather than at the next batched flush, which would first run every other pending I/O callback of
    // this loop turn (the HTTP response of the revoke itself, for one): it is the revoke-to-disconnect
    // latency. Mass revokes stay one in-memory pass with the syscalls in the batched flush.
    if (kicked !== null && closed <= REVOKE_INLINE_FLUSH_MAX) {
      for (const conn of kicked) this.flushNow(conn);
    }
    if (wills !== null) for (const { org, will } of wills) this.publishWill(org, will);
    return closed;
  }

  // ---------------------------------------------------------------- messages

  /**
   * A client's PUBLISH, after its checks: retained and routed. Null when that is done; else a promise of the
   * code its PUBACK or PUBREC carries once it is (0, or 0x80 when it could not be stored). In a cluster that
   * stores sessions, a QoS 1/2 message that stored sessions subscribe to is first written to their durable
   * queues: acknowledged, it reaches them even if an edge dies. The session's later publishes wait behind
   * one being stored, so they keep their order.
   */
  publish(session: Session, message: Message): Promise<number> | null {
    const durable = message.qos > 0 && this.cluster !== null ? this.cluster.enqueue(session.org, message, session.clientId) : null;
    const before = session.publishing;
    if (durable === null && before === null) {
      this.routePublished(session, message, null);
      return null;
    }
    const step = (before ?? Promise.resolve()).then(() => durable).then(
      (skip) => {
        this.routePublished(session, message, skip);
        return 0;
      },
      (err: unknown) => {
        this.logger.warn({ err, orgId: session.org.id }, 'message not stored for its persistent subscribers; delivered to live ones only');
        this.routePublished(session, message, null);
        return 0x80;
      },
    );
    // The tail later publishes wait behind; it never rejects, and is cleared once nothing follows it.
    const done: Promise<void> = step.then(
      () => {
        if (session.publishing === done) session.publishing = null;
      },
      (err: unknown) => {
        this.logger.error({ err }, 'mqtt edge publish failed');
        if (session.publishing === done) session.publishing = null;
      },
    );
    session.publishing = done;
    return step;
  }

  private routePublished(session: Session, message: Message, skip: ReadonlySet<string> | null): void {
    // Retained: stored (or cleared by an empty payload) [MQTT-3.3.1-5], [MQTT-3.3.1-10].
    if (message.retain) this.storeRetained(session.org, message);
    this.route(session.org, message, session, skip);
  }

  /** Builds the will's message when it is published (its expiry counts from then). */
  publishWill(org: Org, will: Will): void {
    const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload);
    const expiry = will.properties?.messageExpiryInterval;
    const message: Message = {
      topic: will.topic,
      payload,
      qos: (will.qos ?? 0) as QoS,
      retain: will.retain === true,
      properties: willProperties(will.properties),
      expiresAt: expiry !== undefined ? this.now() + expiry * 1000 : Infinity,
    };
    // A will with RETAIN set is published as a retained message [MQTT-3.1.2-17].
    if (message.retain) this.storeRetained(org, { ...message, payload: ownPayload(payload) });
    this.route(org, message, null);
  }

  storeRetained(org: Org, message: Message): void {
    // A cluster with a shared retained store keeps them there only: every edge serves the same ones.
    if (this.cluster?.retained !== undefined) return this.cluster.storeRetained(org, message);
    if (!org.retained.set(message, this.limits.maxRetainedPerOrg)) {
      this.counters.messagesDropped++;
      this.logger.warn({ orgId: org.id, topic: message.topic }, 'retained message limit reached, not stored');
    }
  }

  /**
   * Delivers to every matching subscription of the org, once per session at the highest granted QoS,
   * and to one member of each matching shared group [MQTT-4.8.2-3].
   */
  route(org: Org, message: Message, from: Session | null, skip: ReadonlySet<string> | null = null): void {
    // Other edges' interest in this org: null when there is none, so a lone edge pays these two tests.
    if (org.remote !== null || org.remoteShared !== null) {
      this.routeLocal(org, message, from, this.cluster!.forward(org, message, skip), true, skip);
    } else {
      this.routeLocal(org, message, from, undefined, true, skip);
    }
  }

  /**
   * route() without the other edges: for messages that came from them. `serves`: which shared groups of
   * this edge get the message (the cluster gave the others to other edges; all when absent).
   * `subscribers` false: only those groups (the message came for them alone). `skip`: client ids of stored
   * sessions that get it from their durable queue instead.
   */
  routeLocal(
    org: Org,
    message: Message,
    from: Session | null,
    serves?: (groupKey: string) => boolean,
    subscribers = true,
    skip: ReadonlySet<string> | null = null,
  ): void {
    if (subscribers) {
      let found = org.subscriptions.matchAll(message.topic);
      // The publisher among them: its No Local subscriptions leave it out [MQTT-3.8.3-3], so that match is its own.
      if (from !== null && found.has(from)) {
        const own = new Map<Session, SubscriptionOptions>();
        org.subscriptions.match(message.topic, from, own);
        found = own;
      }
      for (const [session, options] of found) {
        if (skip !== null && skip.has(session.clientId)) continue;
        const qos = (options.qos < message.qos ? options.qos : message.qos) as QoS;
        // 3.1.1: RETAIN is 0 on delivery to existing subscriptions [MQTT-3.3.1-9]; 5.0: per Retain As Published [MQTT-3.3.1-12/13].
        this.deliver(session, message, qos, options.rap && message.retain, options.ids);
      }
    }
    if (org.shared.size > 0) {
      // No Local cannot be set on a shared subscription [MQTT-3.8.3-4]: nobody is skipped.
      for (const group of org.shared.matchAll(message.topic).keys()) {
        if (serves !== undefined && !serves(group.key)) continue;
        const i = group.next();
        const options = group.options[i];
        const qos = (options.qos < message.qos ? options.qos : message.qos) as QoS;
        // Delivered as to any subscription, at the member's granted QoS [MQTT-4.8.2-3]; queued if it is offline.
        this.deliver(group.members[i], message, qos, options.rap && message.retain, options.ids);
      }
    }
  }

  deliver(session: Session, message: Message, qos: QoS, retain: boolean, ids: readonly number[] | null = null, ref: string | null = null): void {
    // An expired message is not sent [MQTT-3.3.2-5].
    if (message.expiresAt <= this.clock) return;
    const conn = session.connection;
    if (qos === 0) {
      // QoS 0 is not queued for offline sessions, and is dropped for a socket that is not keeping up.
      if (conn === null) {
        this.counters.messagesDropped++;
        return;
      }
      if (conn.bufferedBytes() > this.limits.maxWriteBufferBytes) {
        this.counters.messagesDropped++;
        this.writes.markBacklogged(conn);
        return;
      }
      if (!conn.sendPublish(message, 0, retain, 0, false, ids)) this.counters.messagesDropped++;
      return;
    }
    if (conn !== null && session.queue === null && !session.resendPending && (session.inflight?.size ?? 0) < conn.sendQuota) {
      this.sendTracked(session, conn, message, qos, retain, ids, ref);
      return;
    }
    let queue = session.queue;
    if (queue === null) queue = session.queue = [];
    if (queue.length >= this.limits.maxQueuedMessages) {
      this.counters.messagesDropped++;
      return;
    }
    queue.push({ message, qos, retain, ids, ref });
  }

  private sendTracked(
    session: Session,
    conn: ClientLink,
    message: Message,
    qos: 1 | 2,
    retain: boolean,
    ids: readonly number[] | null,
    ref: string | null,
  ): void {
    let inflight = session.inflight;
    if (inflight === null) inflight = session.inflight = new Map();
    const id = session.allocatePacketId();
    if (conn.sendPublish(message, qos, retain, id, false, ids)) inflight.set(id, { message, qos, retain, phase: 0, pending: false, ids, ref });
    else this.counters.messagesDropped++;
  }

  /** Moves queued messages into the inflight window as acknowledgements free it. */
  drain(session: Session): void {
    const conn = session.connection;
    if (conn === null || !conn.isConnected()) return;
    // Resumed PUBLISHes still waiting for a slot go before anything queued.
    if (session.resendPending && !this.resendPending(session, conn)) return;
    const queue = session.queue;
    if (queue === null) return;
    const quota = conn.sendQuota;
    while (queue.length > 0 && (session.inflight?.size ?? 0) < quota) {
      const next = queue.shift()!;
      if (next.message.expiresAt <= this.clock) continue;
      this.sendTracked(session, conn, next.message, next.qos, next.retain, next.ids, next.ref);
    }
    if (queue.length === 0 && session.queue === queue) session.queue = null;
  }

  // ---------------------------------------------------------------- stats

  stats(): EdgeStats {
    let retained = 0;
    let subscriptions = 0;
    for (const org of this.orgs.values()) {
      retained += org.retained.size;
      subscriptions += org.subscriptions.size + org.sharedCount;
    }
    return {
      connections: this.connections.size,
      sessions: this.sessionCount,
      ...this.counters,
      retainedMessages: retained,
      subscriptions,
      orgs: this.orgs.size,
      connectRateBuckets: this.ipConnectRate.size + this.identityConnectRate.size,
      unauthenticatedBytes: this.unauthenticated.total,
      remoteRoutes: this.cluster?.remoteRoutes ?? 0,
    };
  }
}
