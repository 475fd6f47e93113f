/**
 * What MQTT edges share to act as one broker. Kept to a few operations a second engine can implement
 * (NATS JetStream: KV for leases and ownership, a subject per edge inbox; Redis Cluster: sharded pub/sub
 * channels per edge): leases, the route table, one inbox per edge and client-id ownership.
 */

/** An application message as it travels between edges: what the receiving edge routes to its subscribers. */
export interface ClusterMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  /** The RETAIN flag as published (5.0 Retain As Published on the receiving edge). */
  readonly retain: boolean;
  /** 5.0 PUBLISH properties forwarded to subscribers: JSON-able values and Buffers (correlation data). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Milliseconds left of the 5.0 Message Expiry Interval when sent; absent: none. */
  readonly ttlMs?: number;
  /**
   * The shared groups (`$share/…` filters) the receiving edge serves this message to, one member each: the
   * sending edge picked one edge per group, so each group gets it once in the cluster. Absent: all of its own.
   */
  readonly shared?: readonly string[];
  /** False: sent for `shared` only, not for the edge's other subscribers. Absent: true. */
  readonly subscribers?: boolean;
  /**
   * Client ids of stored sessions that got this message through their durable queue (SharedSessions.enqueue):
   * the receiving edge does not deliver it to them again.
   */
  readonly skip?: readonly string[];
}

/** What the edge gives its bus: the bus calls these, never anything else of the edge. */
export interface ClusterNode {
  /** A message another edge sent to this edge's inbox. */
  deliver(orgId: string, message: ClusterMessage): void;
  /** Edge `edgeId` now has (`present`) or no longer has subscribers to `filter` in `orgId`. Idempotent. */
  routeChanged(edgeId: string, orgId: string, filter: string, present: boolean): void;
  /** Edge `edgeId` left (closed, or its lease expired): every route of it is gone. */
  edgeGone(edgeId: string): void;
  /**
   * Another edge claimed a client id this edge held, as `epoch`: the local connection, if its claim is older,
   * is taken over (5.0 DISCONNECT 0x8E).
   */
  takenOver(orgId: string, clientId: string, epoch: number): void;
  /**
   * This edge's lease had been lost (it stalled past its lease, or the engine lost its data) and is taken
   * again: the bus has announced its routes again; the node claims the client ids of its live connections again.
   */
  rejoined(): void;
  /**
   * An administrator asked to close this client id's connection here (`SessionDirectory.kick`): the edge
   * sends 5.0 DISCONNECT 0x98 (Administrative action) and closes it. Nothing when it is not connected here.
   */
  kick(orgId: string, clientId: string): void;
  /**
   * A message was stored in the durable queue of a stored session whose client id this edge holds
   * (SharedSessions.enqueue): delivered to it as `ref`, acknowledged through SharedSessions.ack. Nothing when
   * the session is no longer here: the message stays queued for its next connection.
   */
  durable(orgId: string, clientId: string, ref: string, qos: 1 | 2, message: ClusterMessage): void;
}

/** How a credential kind is named in the session registry (the `/v1/sessions` wire values). */
export type SessionCredentialKind = 'token' | 'api_key' | 'certificate' | 'webhook' | 'ldap';

/** A live MQTT connection as the session registry lists it. */
export interface SessionRecord {
  readonly clientId: string;
  /** The user id for tokens, the service name for API keys. */
  readonly userId: string;
  /** The MQTT username (`<user_id>@<org_id>`). */
  readonly username: string;
  readonly credentialKind: SessionCredentialKind;
  readonly credentialId: string;
  readonly edgeId: string;
  readonly address: string;
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  readonly protocolVersion: 3 | 4 | 5;
  /** When the CONNECT was accepted, ms since the epoch. */
  readonly connectedAt: number;
}

export interface SessionQuery {
  userId?: string;
  clientId?: string;
  /** The last client id of the previous page: the page starts after it (client ids in code-point order). */
  after?: string;
  limit: number;
}

/**
 * The live sessions of an org across the edges: listed from where the edges register them (Redis, or the
 * one edge's memory), and kicked on the edge that holds them.
 */
export interface SessionDirectory {
  /** Sessions in client-id order; `more` when another page follows. */
  list(orgId: string, query: SessionQuery): Promise<{ sessions: SessionRecord[]; more: boolean }>;
  /** Sends the kick to the edge that holds the client id; false when no live edge holds it. */
  kick(orgId: string, clientId: string): Promise<boolean>;
}

/**
 * Retained messages every edge sees [MQTT-3.3.1-5]: one message per topic and org, stored where any edge
 * finds it, looked up by topic (a wildcard filter reads the org's messages, bounded by the per-org limit).
 */
export interface SharedRetained {
  /**
   * Stores the message as its topic's retained one, or clears it for an empty payload [MQTT-3.3.1-10].
   * False (not stored) when it is a new topic and the org already holds `limit`.
   */
  set(orgId: string, message: ClusterMessage, limit: number): Promise<boolean>;
  /** The org's unexpired retained messages matched by `filter` (valid, not `$share/`). */
  match(orgId: string, filter: string): Promise<ClusterMessage[]>;
}

/** A subscription of a stored session (the edge's SubscriptionOptions). */
export interface StoredOptions {
  readonly qos: 0 | 1 | 2;
  readonly nl: boolean;
  readonly rap: boolean;
  readonly rh: number;
  readonly ids: readonly number[] | null;
}

/** A message waiting in a stored session's durable queue, sent or not, until its client acknowledges it. */
export interface StoredMessage {
  readonly ref: string;
  /** The QoS it is delivered at (the best of the session's matching subscriptions, at most the message's). */
  readonly qos: 1 | 2;
  readonly message: ClusterMessage;
}

/** A persistent session as a claim found it (ClaimResult.stored). */
export interface StoredSession {
  readonly subscriptions: ReadonlyMap<string, StoredOptions>;
  /** Oldest first, at most the claim's `limit`. */
  readonly messages: readonly StoredMessage[];
}

/** What a claim does with the client id's stored session (ClaimOptions.persist). */
export interface PersistRequest {
  /** True: the stored session of the same owner is resumed (returned); false (clean start): it ends. */
  readonly resume: boolean;
  /** The new session's expiry: 0 keeps nothing stored (a resumed one is read, then ends); else it is stored. */
  readonly expiryMs: number;
  /** Queued messages read at most. */
  readonly limit: number;
  /** The credential the new session holds: revoking it ends the stored session (SharedSessions.revoke). */
  readonly credentialId?: string;
}

/** How a released claim leaves its stored session (ClusterBus.release). */
export interface ReleaseEnd {
  /** 0: the session ends now; else it waits this long for a client to resume it on any edge. */
  readonly expiryMs: number;
  /** A 5.0 delayed will waits on this edge: a resume on another edge tells this one to drop it. */
  readonly willHere: boolean;
  /** The credential the session holds as it goes (re-authentication may have changed it since the claim). */
  readonly credentialId?: string;
}

/**
 * Persistent sessions (clean session 0 / Session Expiry > 0) where every edge finds them: their subscriptions
 * and a durable queue of the QoS 1/2 messages for them, kept from PUBLISH until their client acknowledges.
 * A session is stored and read by the client-id claim (ClaimOptions.persist) and left by its release. Its
 * non-shared subscriptions appear in the route table as routes of {@link SESSION_STORE_EDGE}, so an edge
 * knows without asking which messages need the durable queue.
 */
export interface SharedSessions {
  /** Files (`options`) or removes (null) a subscription of a stored session; fenced by its claim's epoch. */
  subscribe(orgId: string, clientId: string, epoch: number, filter: string, options: StoredOptions | null): void;
  /**
   * Stores `message` in the queue of every stored session with a subscription among `filters` (the store's
   * routes matching its topic) that gets it at QoS 1 or 2, except `from`'s for No Local, and hands it to the
   * edge holding each one's client id (ClusterNode.durable), in one atomic step. A full queue (`limit`)
   * drops it for that session. Resolves, once the engine has it, with the client ids it was stored for.
   */
  enqueue(orgId: string, message: ClusterMessage, from: string | null, filters: readonly string[], limit: number): Promise<ReadonlySet<string>>;
  /** The client acknowledged `ref` (PUBACK, or PUBREC for QoS 2): it leaves the queue. */
  ack(orgId: string, clientId: string, ref: string): void;
  /**
   * These credentials are revoked: the stored sessions last held under them that no live edge holds end (a
   * connected one is ended by its edge, which closes it; if that edge died before its lease ran out, the
   * session ends when the edge is reaped). Every edge may call it for the same revocation. Resolves with how
   * many ended now.
   */
  revoke(credentialIds: readonly string[]): Promise<number>;
}

/** The route-table edge id under which stored sessions' subscriptions are listed (never a real edge). */
export const SESSION_STORE_EDGE = '~sessions';

export interface ClaimOptions {
  /** False: refused while another live edge holds the id, whoever the owner (see `claim`). Default true. */
  takeover?: boolean;
  /**
   * The connection's entry in the session registry, written by the same atomic step as the claim (no
   * round trip of its own on CONNECT) and gone with the claim: on release, on takeover, with the lease.
   */
  session?: SessionRecord;
  /** With SharedSessions: what happens to the client id's stored session (see PersistRequest). */
  persist?: PersistRequest;
}

export type ClaimResult =
  | {
      readonly ok: true;
      readonly epoch: number;
      /** With `persist.resume`: the stored session of the same owner, when there was one. */
      readonly stored?: StoredSession;
    }
  | { readonly ok: false };

export interface ClusterBus {
  /**
   * The shared retained store, when the engine keeps one; absent, each edge keeps its own (in-process: the
   * edge's own trie is the one store of the one process).
   */
  readonly retained?: SharedRetained;
  /** The shared persistent sessions, when the engine keeps them; absent, each edge keeps its own. */
  readonly sessions?: SharedSessions;
  /**
   * True for a cluster of one that no other edge can join (the in-process bus without a hub): the edge then
   * keeps no route bookkeeping and makes no claims, so being "in a cluster" costs a lone edge nothing.
   */
  readonly alone?: boolean;
  /** This edge's id: stable per pod (`SIGNET_EDGE_ID` in the runtime: the pod name). */
  readonly edgeId: string;
  /**
   * Joins the cluster: takes the lease (renewed until close), opens the inbox, then replays the routes of
   * every live edge through `node.routeChanged` before resolving.
   */
  start(node: ClusterNode): Promise<void>;
  /**
   * This edge's interest in `filter` of `orgId` starts (`present`) or ends: called by the edge on its own
   * 0 ↔ 1 transitions of the local subscriber count only, so the shared table counts edges, not sessions.
   */
  setRoute(orgId: string, filter: string, present: boolean): void;
  /** Hands `message` to edge `edgeId`'s inbox, once (fire and forget: no acknowledgement from the edge). */
  send(edgeId: string, orgId: string, message: ClusterMessage): void;
  /**
   * Claims a client id for a connection of `owner` (`kind:subject`) on this edge, atomically. Refused while
   * the id is held by a live connection of another owner on any edge whose lease is live. Otherwise the id
   * is this edge's under a new epoch (greater than every earlier one), and the edge that held it, if
   * another, is told through `takenOver`. `{ takeover: false }`: refused as well while another live edge
   * holds the id, whoever the owner (a claim made again after a lost lease must not take a newer one over).
   * Synchronous where the engine allows it (in-process).
   */
  claim(orgId: string, clientId: string, owner: string, options?: ClaimOptions): ClaimResult | Promise<ClaimResult>;
  /**
   * The connection of that claim is gone; `end`: how its stored session (SharedSessions) is left, absent:
   * untouched. Fenced: does nothing once a newer claim (epoch) holds the id.
   */
  release(orgId: string, clientId: string, epoch: number, end?: ReleaseEnd): void;
  /**
   * Leaves the cluster: routes withdrawn, client ids released, lease dropped. `{ release: false }` stops
   * without any of that (as a killed process would): the lease then expires and other edges reap them.
   */
  close(options?: { release?: boolean }): Promise<void>;
}

/** Lease defaults shared by the implementations. */
export const DEFAULT_LEASE_MS = 10_000;
