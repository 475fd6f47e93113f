import type { StoredSession } from '@signet/mqtt-cluster';

import type { Broker } from './broker';
import type { ClusterLink } from './cluster';
import type { Delivery } from './delivery';
import type { EdgeLimits } from './limits';
import { innerFilter } from './message';
import { credentialExpired, type Principal } from './principal';
import { RESULT_TOPIC } from './reserved';
import { Org, ownerOf, Session, type ClientLink, type SessionOwner, type Will } from './session';
import type { TimerWheel } from './timer-wheel';
import type { DisconnectReason, EdgeHooks, EdgeLogger, EdgeOptions } from './types';

/** revoke() closing at most this many connections ends their sockets at once (see revoke). */
const REVOKE_INLINE_FLUSH_MAX = 16;

/** How a connection wants its session: decided from CONNECT before it is attached. */
export interface SessionRequest {
  clientId: string;
  cleanStart: boolean;
  expiryMs: number;
}

/**
 * The sessions' lifecycle: attach (resume, takeover, clean start), re-authentication, detach with its will
 * and expiry, and the ends a session can come to (expiry, revocation, an administrator's kick, another
 * edge's takeover). Each credential's sessions are indexed so that revoking it is O(its sessions).
 */
export class Sessions implements SessionOwner {
  /** Sessions held here, live or offline. */
  count = 0;
  /** credentialId → sessions held under it, live or offline. */
  private readonly byCredential = new Map<string, Set<Session>>();
  /**
   * The one revoked-set the edge consults: the deny set given as EdgeOptions.revoked, or else the ids
   * revoke() was given, each remembered for revokeMemoryMs.
   */
  private readonly revoked: { has(credentialId: string): boolean };
  /** The ids revoke() remembers when no deny set is given; null when one is. */
  private readonly recentlyRevoked: Map<string, number> | null;
  private readonly limits: EdgeLimits;
  private readonly logger: EdgeLogger;
  private readonly hooks: EdgeHooks;
  private readonly wheel: TimerWheel;
  private readonly cluster: ClusterLink | null;
  private readonly now: () => number;

  constructor(
    private readonly broker: Broker,
    private readonly delivery: Delivery,
    revoked: EdgeOptions['revoked'],
  ) {
    this.limits = broker.limits;
    this.logger = broker.logger;
    this.hooks = broker.hooks;
    this.wheel = broker.wheel;
    this.cluster = broker.cluster;
    this.now = broker.now;
    this.recentlyRevoked = revoked === undefined ? new Map() : null;
    this.revoked = revoked ?? this.recentlyRevoked!;
  }

  /** Forgets the revoked ids remembered past revokeMemoryMs (the broker's sweep). */
  sweep(now: number): void {
    const recent = this.recentlyRevoked;
    if (recent !== null && recent.size > 0) {
      for (const [id, until] of recent) if (until <= now) recent.delete(id);
    }
  }

  interestChanged(org: Org, filter: string, present: boolean): void {
    this.cluster?.interestChanged(org, filter, present);
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

  /**
   * An administrator's kick (DELETE /v1/sessions/{client_id}): the live connection of the client id is
   * closed with 5.0 DISCONNECT 0x98 Administrative action, its will published as for any server-side close;
   * its session state stays, for its session expiry. False when the client id has no live connection here.
   */
  kick(orgId: string, clientId: string): boolean {
    const conn = this.broker.findOrg(orgId)?.sessions.get(clientId)?.connection;
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
    const org = this.broker.org(principal.orgId);
    const owner = ownerOf(principal);
    const existing = this.takeOver(org, request.clientId, owner);
    if (existing === false) return null;
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
      this.reauthenticated(session, principal);
    } else {
      // Clean start, or another owner's offline session: it ends (its pending will goes out) [MQTT-3.1.2-4].
      if (existing !== undefined) this.destroySession(existing, true);
      session = this.newSession(org, request.clientId, principal, owner);
    }
    this.connectSession(session, conn, request, epoch);
    return { session, sessionPresent };
  }

  /**
   * Takes over the client id's live connection, if any [MQTT-3.1.4-3], and returns the session left then
   * (the kick may have ended it); false when that connection is another owner's.
   */
  private takeOver(org: Org, clientId: string, owner: string): Session | undefined | false {
    const existing = org.sessions.get(clientId);
    if (existing !== undefined && existing.connection !== null) {
      if (existing.owner !== owner) return false;
      existing.connection.kick(0x8e, 'taken_over', true);
    }
    return org.sessions.get(clientId);
  }

  private newSession(org: Org, clientId: string, principal: Principal, owner: string): Session {
    const session = new Session(org, clientId, principal.credentialId, owner);
    org.sessions.set(clientId, session);
    this.index(session);
    this.count++;
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
    const org = this.broker.org(principal.orgId);
    const owner = ownerOf(principal);
    const left = this.takeOver(org, request.clientId, owner);
    if (left === false) return null;
    // A resume cancels a delayed will [MQTT-3.1.3-9]; a clean start ends the session, and its will goes [MQTT-3.1.2-4].
    if (left !== undefined) this.destroySession(left, request.cleanStart);
    const session = this.newSession(org, request.clientId, principal, owner);
    this.connectSession(session, conn, request, epoch);
    session.stored = request.expiryMs > 0;
    if (stored !== undefined) this.cluster!.restore(session, stored, principal.permissions);
    return { session, sessionPresent: stored !== undefined };
  }

  /**
   * A session re-authenticated (handlers/auth.ts) or resumed with a credential of the same owner:
   * revocation now names that credential, and what its grants no longer cover is dropped.
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

  /** The connection of a session is gone. */
  detach(conn: ClientLink, will: Will | null, willDelayMs: number, reason: DisconnectReason): void {
    const session = conn.session;
    if (session === null) return;
    const current = session.connection === conn;
    if (current) {
      session.connection = null;
      if (session.epoch !== 0) {
        const end = session.stored ? { expiryMs: session.expiryMs, willHere: will !== null && willDelayMs > 0, credentialId: session.credentialId } : undefined;
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
      if (will !== null) this.delivery.publishWill(session.org, will);
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
        this.delivery.publishWill(session.org, will);
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
      if (will !== null) this.delivery.publishWill(session.org, will);
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
      this.delivery.publishWill(session.org, will);
    }
    if (now >= session.expiresAt) this.destroySession(session, true);
    else this.wheel.schedule(session, Math.min(session.expiresAt, session.willAt));
  }

  /** Ends a session: its subscriptions leave the routing table; a pending will goes out if asked. */
  destroySession(session: Session, publishPendingWill: boolean): void {
    if (session.destroyed) return;
    session.destroyed = true;
    this.count--;
    if (session.epoch !== 0) this.cluster!.release(session);
    this.wheel.cancel(session);
    const org = session.org;
    this.dropState(session);
    if (org.sessions.get(session.clientId) === session) org.sessions.delete(session.clientId);
    this.unindex(session);
    const will = session.pendingWill;
    session.pendingWill = null;
    if (will !== null && publishPendingWill) this.delivery.publishWill(org, will);
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
   * ends their session state, offline sessions included (in a cluster's store too):
   * subscriptions, queued and in-flight messages are dropped, so nothing waits for the
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
    const stored: string[] | null = this.cluster?.sessions !== undefined ? [] : null;
    for (const id of credentialIds) {
      recent?.set(id, until);
      stored?.push(id);
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
    if (wills !== null) for (const { org, will } of wills) this.delivery.publishWill(org, will);
    // Offline sessions in the cluster's store are no edge's: the store ends them.
    if (stored !== null && stored.length > 0) this.cluster!.revokeStored(stored);
    return closed;
  }
}
