import type { SessionRecord } from '@signet/mqtt-cluster';
import type { IConnectPacket, QoS } from 'mqtt-packet';
import type { ProtocolVersion } from '../codec/codec';
import { innerFilter, SHARE_PREFIX, type Message, type SubscriptionOptions } from './message';
import type { Principal } from './principal';
import type { Timed } from './timer-wheel';
import { RetainedStore, SubscriptionTree } from './topic-tree';
import type { DisconnectReason, TransportKind } from './types';

export type Will = NonNullable<IConnectPacket['will']>;

/**
 * What the broker and sessions see of a client connection: the core drives a connection only through this
 * (deliver, kick, flush), never through its class, so it does not depend on the connection or transport
 * layers above it. Implemented by Connection (connection/connection.ts); kept beside Session, which holds one.
 */
export interface ClientLink {
  readonly session: Session | null;
  readonly principal: Principal | null;
  /** Outbound QoS 1/2 window: min(our maxInflight, the client's 5.0 Receive Maximum). */
  readonly sendQuota: number;
  /** Remote address, read once when the connection opens (per-address connection count). */
  readonly remoteKey: string;
  readonly clientId: string;
  readonly protocolVersion: ProtocolVersion;
  /** For the session registry (GET /v1/sessions): the transport, whether it is TLS, the CONNECT's username. */
  readonly transport: TransportKind;
  readonly secure: boolean;
  readonly authUsername: string | undefined;
  /** When the CONNECT was accepted, ms since the epoch (wall clock, as the registry shows it). */
  readonly connectedAt: number;
  isConnected(): boolean;
  /** Bytes accepted by the socket but not yet sent. */
  bufferedBytes(): number;
  /** Server-initiated close; 5.0 clients get DISCONNECT with `reasonCode` first (-1: none). */
  kick(reasonCode: number, reason: DisconnectReason, publishWill: boolean): void;
  /** Hands over the connect-time will, which the connection then no longer publishes (revoke). */
  takeWill(): Will | null;
  /** Encodes and queues a PUBLISH. False when it cannot be sent (too large for the client [MQTT-3.1.2-25]). */
  sendPublish(message: Message, qos: QoS, retain: boolean, messageId: number, dup: boolean, ids?: readonly number[] | null): boolean;
  sendPubrel(messageId: number): void;
  /** Hands the queued writes to the socket (the broker's batched flush, or at once for a small revoke). */
  flush(): void;
}

/** Who runs a session's timer (will delay, expiry while offline) and hears an org's interest change: the broker. */
export interface SessionOwner {
  sessionTimer(session: Session, now: number): void;
  /** The org's first subscriber to `filter` (a shared group's whole `$share/…` filter) came, or its last went (Org.interest). */
  interestChanged(org: Org, filter: string, present: boolean): void;
}

/** An outbound QoS 1/2 message awaiting acknowledgement. */
export interface Inflight {
  readonly message: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  /** 0: PUBLISH sent, awaiting PUBACK/PUBREC; 1: PUBREL sent, awaiting PUBCOMP. */
  phase: 0 | 1;
  /**
   * Not yet re-sent on this connection: a resumed session had more unacknowledged PUBLISHes than the
   * client's new Receive Maximum, so this one waits (original identifier, DUP) for a free slot [MQTT-3.3.4-9].
   */
  pending: boolean;
  /** 5.0 Subscription Identifiers of the matching subscriptions, re-sent with a DUP [MQTT-3.3.4-3]. */
  readonly ids: readonly number[] | null;
  /** Its entry in the session's durable queue (SharedSessions), removed when the client acknowledges it; null: none. */
  readonly ref: string | null;
}

export interface Queued {
  readonly message: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  readonly ids: readonly number[] | null;
  readonly ref: string | null;
}

/** Options a shared group is filed under in the org's shared trie; members keep their own. */
const GROUP_OPTIONS: SubscriptionOptions = Object.freeze({ qos: 2, nl: false, rap: false, rh: 0, ids: null });

/**
 * A 5.0 Shared Subscription group (§4.8.2): the sessions subscribed to one `$share/<ShareName>/<filter>`
 * in one org. Each matching message goes to one member, round-robin, preferring connected ones.
 */
export class SharedGroup {
  readonly members: Session[] = [];
  readonly options: SubscriptionOptions[] = [];
  private cursor = 0;

  constructor(
    /** The whole `$share/…` filter. */
    readonly key: string,
    /** The filter messages are matched against. */
    readonly filter: string,
  ) {}

  /** Index of the member that gets the next message. A member whose session is offline is skipped while another is online. */
  next(): number {
    const members = this.members;
    const n = members.length;
    let i = this.cursor >= n ? 0 : this.cursor;
    for (let k = 0; k < n; k++) {
      if (members[i].connection !== null) break;
      i = i + 1 === n ? 0 : i + 1;
    }
    this.cursor = i + 1;
    return i;
  }
}

/**
 * A shared group as the other edges hold it (core/cluster.ts): the edges with members, one picked per
 * message, round-robin, so the group gets each message once in the cluster.
 */
export class RemoteGroup {
  readonly edges: string[] = [];
  private cursor = 0;

  constructor(
    /** The whole `$share/…` filter. */
    readonly key: string,
  ) {}

  /** Index into `of` (the remote edges, and this edge last when it has members too) for the next message. */
  next(of: number): number {
    const i = this.cursor >= of ? 0 : this.cursor;
    this.cursor = i + 1;
    return i;
  }
}

/**
 * Everything of one tenant: routing table, retained messages, and the client
 * identifier namespace. Nothing is shared between orgs, so no subscription,
 * retained message or will can cross from one org to another.
 */
export class Org {
  readonly sessions = new Map<string, Session>();
  readonly subscriptions = new SubscriptionTree<Session>();
  readonly retained = new RetainedStore();
  /** 5.0 Shared Subscriptions: groups by their `$share/…` filter, and a trie of them by inner filter. */
  readonly sharedGroups = new Map<string, SharedGroup>();
  readonly shared = new SubscriptionTree<SharedGroup>();
  /**
   * In a cluster: this org's subscribers per matched filter on this edge, for the route table (core/cluster.ts);
   * null without a cluster, so subscribing costs one test more.
   */
  interest: Map<string, number> | null = null;
  /** In a cluster: the other edges with subscribers in this org, by filter; null while there are none. */
  remote: SubscriptionTree<string> | null = null;
  /** In a cluster: the other edges' shared groups in this org, by `$share/…` filter and by inner filter; null while none. */
  remoteGroups: Map<string, RemoteGroup> | null = null;
  remoteShared: SubscriptionTree<RemoteGroup> | null = null;
  /** In a cluster that stores sessions: the filters stored sessions of this org subscribe to; null while none. */
  durable: SubscriptionTree<string> | null = null;

  constructor(
    readonly id: string,
    readonly owner: SessionOwner,
  ) {}

  /** Files a subscription of `session` (a `$share/…` filter joins its group). Replaces an existing one [MQTT-3.8.4-3]. */
  subscribe(session: Session, filter: string, options: SubscriptionOptions): void {
    if (!filter.startsWith(SHARE_PREFIX)) {
      const before = this.subscriptions.size;
      this.subscriptions.add(filter, session, options);
      if (this.interest !== null && this.subscriptions.size > before) this.interested(filter, 1);
      return;
    }
    let group = this.sharedGroups.get(filter);
    if (group === undefined) {
      group = new SharedGroup(filter, innerFilter(filter));
      this.sharedGroups.set(filter, group);
      this.shared.add(group.filter, group, GROUP_OPTIONS);
    }
    const i = group.members.indexOf(session);
    if (i >= 0) {
      group.options[i] = options;
      return;
    }
    group.members.push(session);
    group.options.push(options);
    if (this.interest !== null) this.interested(group.key, 1);
  }

  private interested(filter: string, delta: 1 | -1): void {
    const interest = this.interest!;
    const count = (interest.get(filter) ?? 0) + delta;
    if (count > 0) interest.set(filter, count);
    else interest.delete(filter);
    if (count === 1 && delta === 1) this.owner.interestChanged(this, filter, true);
    else if (count === 0) this.owner.interestChanged(this, filter, false);
  }

  /** Memberships of shared groups (for stats). */
  get sharedCount(): number {
    let n = 0;
    for (const group of this.sharedGroups.values()) n += group.members.length;
    return n;
  }

  /** Removes a subscription of `session` filed by `subscribe`. */
  unsubscribe(session: Session, filter: string): void {
    if (!filter.startsWith(SHARE_PREFIX)) {
      if (this.subscriptions.remove(filter, session) && this.interest !== null) this.interested(filter, -1);
      return;
    }
    const group = this.sharedGroups.get(filter);
    if (group === undefined) return;
    const i = group.members.indexOf(session);
    if (i < 0) return;
    group.members.splice(i, 1);
    group.options.splice(i, 1);
    if (this.interest !== null) this.interested(group.key, -1);
    if (group.members.length === 0) {
      this.sharedGroups.delete(filter);
      this.shared.remove(group.filter, group);
    }
  }
}

/** Who may resume or take over a session: `kind:subject` (the org is the session's own). */
export function ownerOf(principal: Principal): string {
  return `${principal.kind}:${principal.subject}`;
}

/**
 * MQTT session state (§4.1): subscriptions, outbound messages in flight or
 * queued, inbound QoS 2 identifiers awaiting PUBREL. It outlives its
 * connection when its expiry interval is non-zero. Collections are created on
 * first use to keep idle sessions small.
 */
export class Session implements Timed {
  wheelSlot = -1;
  connection: ClientLink | null = null;
  subscriptions: Map<string, SubscriptionOptions> | null = null;
  inflight: Map<number, Inflight> | null = null;
  queue: Queued[] | null = null;
  awaitingRel: Set<number> | null = null;
  /** Some in-flight entries are `pending` (Delivery.resume): drain re-sends them before taking from the queue. */
  resendPending = false;
  nextPacketId = 1;
  /** How long the session survives its connection, ms (0: it ends with it). */
  expiryMs = 0;
  /** While offline: when the session ends. */
  expiresAt = Infinity;
  /** 5.0 Will Delay Interval: a will waiting to be published while offline [MQTT-3.1.3-9]. */
  pendingWill: Will | null = null;
  willAt = Infinity;
  /** The pending will goes out if the session is revoked (its credential's Principal.willOnEnd). */
  pendingWillOnEnd = false;
  destroyed = false;
  /** In a cluster: the epoch of the client-id claim its connection holds (0: none), for a fenced release. */
  epoch = 0;
  /** In a cluster: the registry entry written with that claim, claimed again with it after a lost lease. */
  record: SessionRecord | null = null;
  /** In a cluster with shared sessions: this session is stored there (its expiry was > 0 at CONNECT). */
  stored = false;
  /**
   * A PUBLISH of this session waiting for the durable queues (Delivery.publish): its later ones wait behind
   * it, so they are routed and acknowledged in order. Null: none.
   */
  publishing: Promise<void> | null = null;

  constructor(
    readonly org: Org,
    readonly clientId: string,
    /** The credential the session is held under, for revocation. */
    public credentialId: string,
    /** `kind:subject` of the principal that owns it: only the same owner may resume or take it over. */
    public owner: string,
  ) {}

  onTimer(now: number): void {
    this.org.owner.sessionTimer(this, now);
  }

  /** A free packet identifier [MQTT-2.2.1-3]; the inflight window is far below 65535, so one exists. */
  allocatePacketId(): number {
    const inflight = this.inflight;
    let id = this.nextPacketId;
    if (inflight !== null) {
      while (inflight.has(id)) id = id === 65535 ? 1 : id + 1;
    }
    this.nextPacketId = id === 65535 ? 1 : id + 1;
    return id;
  }
}
