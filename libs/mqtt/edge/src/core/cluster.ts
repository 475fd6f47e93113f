import {
  SESSION_STORE_EDGE,
  type ClaimResult,
  type ClusterBus,
  type ClusterMessage,
  type ClusterNode,
  type PersistRequest,
  type ReleaseEnd,
  type SessionRecord,
  type SharedRetained,
  type SharedSessions,
  type StoredSession,
} from '@signet/mqtt-cluster';
import type { QoS } from 'mqtt-packet';
import { topicMatches, type PermissionSet } from '@signet/permissions';
import type { Delivery } from './delivery';
import type { EdgeLimits } from './limits';
import { innerFilter, SHARE_PREFIX, type ForwardedProperties, type Message, type SubscriptionOptions } from './message';
import { RESULT_TOPIC, isReservedTopic } from './reserved';
import { RemoteGroup, type Org, type Session } from './session';
import type { Sessions } from './sessions';
import type { EdgeLogger } from './types';
import { mergeOptions, SubscriptionTree } from './topic-tree';

/** Options a remote edge is filed under in an org's remote trie: only the edge ids matter. */
const REMOTE: SubscriptionOptions = Object.freeze({ qos: 2, nl: false, rap: false, rh: 0, ids: null });

const NO_EDGES: ReadonlyMap<string, SubscriptionOptions> = new Map();

/** A takeover heard before the claim it fences resolved is remembered this long. */
const FENCE_MS = 30_000;

/** What the cluster link needs of the broker (core/broker.ts implements it). */
export interface ClusterHost {
  readonly clock: number;
  readonly limits: EdgeLimits;
  readonly logger: EdgeLogger;
  readonly counters: { messagesDropped: number };
  /** The org, made when absent (a remote route may name an org with no session here yet). */
  org(orgId: string): Org;
  findOrg(orgId: string): Org | undefined;
  /** The sessions with a live connection. */
  liveSessions(): Iterable<Session>;
  /** deliver and routeLocal: a message from the bus goes to this edge's subscribers only, never back onto it. */
  readonly delivery: Pick<Delivery, 'deliver' | 'routeLocal'>;
  /** takenOver (another edge claimed the client id) and kick (an administrator's, sent to this edge). */
  readonly sessions: Pick<Sessions, 'takenOver' | 'kick'>;
}

/** The options one delivery to `session` of a message on `topic` uses (its matching non-shared subscriptions); null: none. */
function ownOptions(session: Session, topic: string): SubscriptionOptions | null {
  let best: SubscriptionOptions | null = null;
  if (session.subscriptions !== null) {
    for (const [filter, options] of session.subscriptions) {
      if (filter.startsWith(SHARE_PREFIX) || !topicMatches(filter, topic)) continue;
      best = best === null ? options : mergeOptions(best, options);
    }
  }
  return best;
}

function toClusterMessage(message: Message, clock: number): ClusterMessage {
  // Without properties or expiry the message is a cluster message as it is: no copy per forwarded message.
  if (message.properties === undefined && message.expiresAt === Infinity) return message;
  // Built field by field: no spread of a temporary object per optional field, on every forwarded message.
  const out: { -readonly [K in keyof ClusterMessage]: ClusterMessage[K] } = { topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain };
  if (message.properties !== undefined) out.properties = message.properties as Record<string, unknown>;
  if (message.expiresAt !== Infinity) out.ttlMs = message.expiresAt - clock;
  return out;
}

function fromClusterMessage(message: ClusterMessage, clock: number): Message {
  return {
    topic: message.topic,
    payload: message.payload,
    qos: message.qos as QoS,
    retain: message.retain,
    properties: message.properties as ForwardedProperties | undefined,
    expiresAt: message.ttlMs !== undefined ? clock + message.ttlMs : Infinity,
  };
}

/**
 * The edge's side of the cluster bus: this edge's interest announced (per org filter, on the 0 ↔ 1
 * transitions of its local subscriber count), the other edges' interest mirrored into each org's `remote`
 * trie, messages forwarded once per interested edge, and client-id claims. Absent (Broker.cluster null)
 * without a bus; with one, a PUBLISH in an org where no other edge has interest costs one null test.
 */
export class ClusterLink implements ClusterNode {
  /** The routes of each other edge: `orgId \0 filter`, so a departed edge's are dropped in one pass. */
  private readonly byEdge = new Map<string, Set<string>>();
  private readonly fences = new Map<string, { epoch: number; at: number }>();
  private readonly filterScratch = new Map<string, SubscriptionOptions>();
  /**
   * Durable messages for client ids whose claim is in flight here: Redis may hand one over before the claim's
   * own answer arrives; delivered once the session is attached.
   */
  private readonly claiming = new Map<string, { ref: string; qos: 1 | 2; message: ClusterMessage }[]>();
  private routeCount = 0;

  constructor(
    readonly bus: ClusterBus,
    private readonly host: ClusterHost,
  ) {}

  get remoteRoutes(): number {
    return this.routeCount;
  }

  /** The bus's shared persistent sessions; undefined when each edge keeps its own. */
  get sessions(): SharedSessions | undefined {
    return this.bus.sessions;
  }

  /** The bus's shared retained store; undefined when each edge keeps its own. */
  get retained(): SharedRetained | undefined {
    return this.bus.retained;
  }

  // ---------------------------------------------------------------- retained messages

  /** Stores (or clears) a retained message in the shared store; over the org's limit it is dropped, as on one edge. */
  storeRetained(org: Org, message: Message): void {
    const host = this.host;
    const topic = message.topic;
    this.bus.retained!.set(org.id, toClusterMessage(message, host.clock), host.limits.maxRetainedPerOrg).then(
      (stored) => {
        if (stored) return;
        host.counters.messagesDropped++;
        host.logger.warn({ orgId: org.id, topic }, 'retained message limit reached, not stored');
      },
      (err: unknown) => {
        host.counters.messagesDropped++;
        host.logger.warn({ err, orgId: org.id, topic }, 'retained message not stored: cluster store unavailable');
      },
    );
  }

  /**
   * After a SUBACK: the shared store's retained messages matching each new subscription go to the session,
   * with RETAIN set [MQTT-3.3.1-6], [MQTT-3.3.1-8], once the store answers.
   */
  sendRetained(session: Session, subscriptions: readonly [string, SubscriptionOptions][]): void {
    const host = this.host;
    for (const [filter, options] of subscriptions) {
      this.bus.retained!.match(session.org.id, filter).then(
        (found) => {
          if (session.destroyed) return;
          for (const m of found) {
            const message = fromClusterMessage(m, host.clock);
            const qos = (options.qos < message.qos ? options.qos : message.qos) as QoS;
            host.delivery.deliver(session, message, qos, true, options.ids);
          }
        },
        (err: unknown) => host.logger.warn({ err, filter }, 'retained messages not read: cluster store unavailable'),
      );
    }
  }

  // ---------------------------------------------------------------- stored sessions

  /**
   * For a QoS 1/2 PUBLISH: stores it in the durable queue of every stored session that subscribes to its
   * topic (SharedSessions.enqueue), resolving with their client ids; null when no stored session does.
   */
  enqueue(org: Org, message: Message, from: string): Promise<ReadonlySet<string>> | null {
    const durable = org.durable;
    const sessions = this.bus.sessions;
    if (durable === null || sessions === undefined || message.expiresAt <= this.host.clock) return null;
    const found = this.filterScratch;
    durable.match(message.topic, null, found);
    if (found.size === 0) return null;
    const filters = [...found.keys()];
    found.clear();
    return sessions.enqueue(org.id, toClusterMessage(message, this.host.clock), from, filters, this.host.limits.maxQueuedMessages);
  }

  /** A subscription of a stored session was filed (`options`) or removed (null). */
  storeSubscription(session: Session, filter: string, options: SubscriptionOptions | null): void {
    this.bus.sessions?.subscribe(session.org.id, session.clientId, session.epoch, filter, options);
  }

  acknowledge(session: Session, ref: string): void {
    this.bus.sessions?.ack(session.org.id, session.clientId, ref);
  }

  /** Revoked credentials: their offline stored sessions end, as on one edge (Sessions.revoke). */
  revokeStored(credentialIds: readonly string[]): void {
    this.bus.sessions?.revoke(credentialIds).catch((err: unknown) => this.host.logger.warn({ err }, 'cluster bus: stored sessions of revoked credentials not ended; they end with their expiry'));
  }

  /**
   * A resumed session gets what its claim read: the subscriptions its credential still permits (the others
   * are removed from the store) and the queued messages, which resume() then sends.
   */
  restore(session: Session, stored: StoredSession, permissions: PermissionSet): void {
    const org = session.org;
    for (const [filter, options] of stored.subscriptions) {
      if (filter !== RESULT_TOPIC && !permissions.canSubscribe(innerFilter(filter))) {
        this.storeSubscription(session, filter, null);
        continue;
      }
      (session.subscriptions ??= new Map()).set(filter, options);
      org.subscribe(session, filter, options);
    }
    // Queued, not sent: the CONNACK goes first, then resume() sends them.
    session.queue = [];
    for (const { ref, qos, message } of stored.messages) this.deliverStored(session, ref, qos, message, permissions);
    if (session.queue.length === 0) session.queue = null;
  }

  /** A durable message for `session`, as its own subscriptions and grants have it; acknowledged at once if they do not. */
  private deliverStored(session: Session, ref: string, qos: 1 | 2, stored: ClusterMessage, permissions: PermissionSet | undefined): void {
    const options = ownOptions(session, stored.topic);
    if (options === null || permissions?.canSubscribe(stored.topic) === false) return this.acknowledge(session, ref);
    const message = fromClusterMessage(stored, this.host.clock);
    this.host.delivery.deliver(session, message, qos, options.rap && message.retain, options.ids, ref);
  }

  durable(orgId: string, clientId: string, ref: string, qos: 1 | 2, message: ClusterMessage): void {
    const session = this.host.findOrg(orgId)?.sessions.get(clientId);
    const conn = session?.connection;
    if (session !== undefined && session.stored && conn != null) return this.deliverStored(session, ref, qos, message, conn.principal?.permissions);
    // Otherwise it stays in the queue for the session's next connection.
    this.claiming.get(`${orgId}\0${clientId}`)?.push({ ref, qos, message });
  }

  // ---------------------------------------------------------------- this edge's interest

  /** This edge's first subscriber to `filter` (a shared group: its `$share/…` filter) in `org` came, or its last went. */
  interestChanged(org: Org, filter: string, present: boolean): void {
    // `$signet/` filters are served by the edge itself (RESULT_TOPIC): nothing is ever routed there.
    if (isReservedTopic(innerFilter(filter))) return;
    this.bus.setRoute(org.id, filter, present);
  }

  /**
   * Sends `message`, published on this edge, once to each edge with a matching subscriber in its org, and
   * gives each matching shared group to one edge (round-robin over the edges with members, this one
   * included), so the group gets it once in the cluster [MQTT-4.8.2-3]. Returns which of this edge's
   * groups serve it here, or undefined for all of them (no other edge has a matching group).
   */
  forward(org: Org, message: Message, skip: ReadonlySet<string> | null = null): ((groupKey: string) => boolean) | undefined {
    const clock = this.host.clock;
    if (message.expiresAt <= clock) return undefined;
    // The org's remote trie keeps what each topic matched until a route of the org changes.
    const edges = org.remote !== null ? org.remote.matchAll(message.topic) : NO_EDGES;
    const given = org.remoteShared !== null ? this.pickGroups(org, message.topic) : undefined;
    if (edges.size === 0 && given === undefined) return undefined;
    const plain = toClusterMessage(message, clock);
    const out = skip === null || skip.size === 0 ? plain : { ...plain, skip: [...skip] };
    if (given === undefined) {
      for (const edgeId of edges.keys()) this.bus.send(edgeId, org.id, out);
      return undefined;
    }
    // With groups in play every copy says which groups it serves, so no edge serves one it was not given.
    for (const edgeId of edges.keys()) this.bus.send(edgeId, org.id, { ...out, shared: given.byEdge.get(edgeId) ?? [] });
    for (const [edgeId, shared] of given.byEdge) {
      if (!edges.has(edgeId)) this.bus.send(edgeId, org.id, { ...out, shared, subscribers: false });
    }
    const elsewhere = given.elsewhere;
    return (key) => !elsewhere.has(key);
  }

  /** For each shared group of `org` matching `topic` that other edges have: the edge that serves it. */
  private pickGroups(org: Org, topic: string): { byEdge: Map<string, string[]>; elsewhere: Set<string> } | undefined {
    const groups = org.remoteShared!.matchAll(topic);
    if (groups.size === 0) return undefined;
    const byEdge = new Map<string, string[]>();
    const elsewhere = new Set<string>();
    for (const group of groups.keys()) {
      const remote = group.edges;
      const here = org.sharedGroups.get(group.key) !== undefined ? 1 : 0;
      const i = group.next(remote.length + here);
      if (i === remote.length) continue; // this edge's turn: served by routeLocal
      elsewhere.add(group.key);
      const list = byEdge.get(remote[i]);
      if (list === undefined) byEdge.set(remote[i], [group.key]);
      else list.push(group.key);
    }
    return { byEdge, elsewhere };
  }

  // ---------------------------------------------------------------- client ids

  /**
   * Claims the client id for a CONNECT (handlers/claim.ts), reading or ending its stored session as
   * `persist` says when the bus stores sessions. `settled` must follow once the connection is attached or refused.
   */
  claim(orgId: string, clientId: string, owner: string, session: SessionRecord, persist: PersistRequest): ClaimResult | Promise<ClaimResult> {
    if (this.bus.sessions === undefined) return this.bus.claim(orgId, clientId, owner, { session });
    this.claiming.set(`${orgId}\0${clientId}`, []);
    return this.bus.claim(orgId, clientId, owner, { session, persist });
  }

  /** The claim of `claim` is done with: durable messages that came meanwhile go to the session, if attached. */
  settled(orgId: string, clientId: string): void {
    const key = `${orgId}\0${clientId}`;
    const early = this.claiming.get(key);
    if (early === undefined) return;
    this.claiming.delete(key);
    for (const { ref, qos, message } of early) this.durable(orgId, clientId, ref, qos, message);
  }

  /** A claim resolved with `epoch` after a takeover with a newer one was already heard: it lost. */
  fenced(orgId: string, clientId: string, epoch: number): boolean {
    const fence = this.fences.get(`${orgId}\0${clientId}`);
    return fence !== undefined && fence.epoch > epoch;
  }

  release(session: Session, end?: ReleaseEnd): void {
    const epoch = session.epoch;
    session.epoch = 0;
    this.bus.release(session.org.id, session.clientId, epoch, end);
  }

  // ---------------------------------------------------------------- from the bus

  deliver(orgId: string, message: ClusterMessage): void {
    // Never the edge's own namespace, whatever arrives; an org with nobody here has no one to deliver to.
    if (isReservedTopic(message.topic)) return;
    const org = this.host.findOrg(orgId);
    if (org === undefined) return;
    const shared = message.shared;
    const serves = shared === undefined ? undefined : (key: string) => shared.includes(key);
    const skip = message.skip === undefined ? null : new Set(message.skip);
    this.host.delivery.routeLocal(org, fromClusterMessage(message, this.host.clock), null, serves, message.subscribers !== false, skip);
  }

  routeChanged(edgeId: string, orgId: string, filter: string, present: boolean): void {
    if (edgeId === this.bus.edgeId) return;
    const key = `${orgId}\0${filter}`;
    let routes = this.byEdge.get(edgeId);
    if (present) {
      if (routes === undefined) this.byEdge.set(edgeId, (routes = new Set()));
      if (routes.has(key)) return;
      routes.add(key);
      const org = this.host.org(orgId);
      if (edgeId === SESSION_STORE_EDGE) (org.durable ??= new SubscriptionTree<string>()).add(filter, filter, REMOTE);
      else if (filter.startsWith(SHARE_PREFIX)) this.addGroupEdge(org, filter, edgeId);
      else (org.remote ??= new SubscriptionTree<string>()).add(filter, edgeId, REMOTE);
      this.routeCount++;
    } else {
      if (routes === undefined || !routes.delete(key)) return;
      if (routes.size === 0) this.byEdge.delete(edgeId);
      this.drop(edgeId, orgId, filter);
    }
  }

  edgeGone(edgeId: string): void {
    const routes = this.byEdge.get(edgeId);
    if (routes === undefined) return;
    this.byEdge.delete(edgeId);
    for (const key of routes) {
      const sep = key.indexOf('\0');
      this.drop(edgeId, key.slice(0, sep), key.slice(sep + 1));
    }
  }

  private addGroupEdge(org: Org, key: string, edgeId: string): void {
    const groups = (org.remoteGroups ??= new Map());
    let group = groups.get(key);
    if (group === undefined) {
      groups.set(key, (group = new RemoteGroup(key)));
      (org.remoteShared ??= new SubscriptionTree<RemoteGroup>()).add(innerFilter(key), group, REMOTE);
    }
    group.edges.push(edgeId);
  }

  private dropGroupEdge(org: Org, key: string, edgeId: string): void {
    const group = org.remoteGroups?.get(key);
    const i = group === undefined ? -1 : group.edges.indexOf(edgeId);
    if (i < 0) return;
    group!.edges.splice(i, 1);
    this.routeCount--;
    if (group!.edges.length > 0) return;
    org.remoteGroups!.delete(key);
    org.remoteShared!.remove(innerFilter(key), group!);
    if (org.remoteGroups!.size === 0) {
      org.remoteGroups = null;
      org.remoteShared = null;
    }
  }

  private drop(edgeId: string, orgId: string, filter: string): void {
    const org = this.host.findOrg(orgId);
    if (edgeId === SESSION_STORE_EDGE) {
      if (org?.durable?.remove(filter, filter) !== true) return;
      this.routeCount--;
      if (org.durable.size === 0) org.durable = null;
      return;
    }
    if (org !== undefined && filter.startsWith(SHARE_PREFIX)) return this.dropGroupEdge(org, filter, edgeId);
    const remote = org?.remote;
    if (remote == null || !remote.remove(filter, edgeId)) return;
    this.routeCount--;
    // Null again: a PUBLISH in an org nobody elsewhere listens to pays one test, not a trie walk.
    if (remote.size === 0) org!.remote = null;
  }

  /**
   * The lease was lost and its claims with it: each live connection's client id is claimed again. One that
   * another owner claimed meanwhile is theirs now (the cluster's record decides): the local one is closed (0x8E).
   */
  rejoined(): void {
    for (const session of this.host.liveSessions()) {
      if (session.epoch === 0) continue;
      const claimed = (result: ClaimResult): void => {
        if (session.destroyed || session.connection === null) {
          if (result.ok) this.bus.release(session.org.id, session.clientId, result.epoch);
        } else if (result.ok) session.epoch = result.epoch;
        else this.host.sessions.takenOver(session);
      };
      // Not a takeover: a connection made meanwhile on another edge is the newer one and keeps the id.
      const result = this.bus.claim(session.org.id, session.clientId, session.owner, { takeover: false, ...(session.record !== null ? { session: session.record } : {}) });
      if (result instanceof Promise) result.then(claimed, () => undefined);
      else claimed(result);
    }
  }

  kick(orgId: string, clientId: string): void {
    this.host.sessions.kick(orgId, clientId);
  }

  takenOver(orgId: string, clientId: string, epoch: number): void {
    const now = Date.now();
    if (this.fences.size > 1000) for (const [k, f] of this.fences) if (now - f.at > FENCE_MS) this.fences.delete(k);
    this.fences.set(`${orgId}\0${clientId}`, { epoch, at: now });
    const session = this.host.findOrg(orgId)?.sessions.get(clientId);
    if (session !== undefined && session.epoch < epoch) this.host.sessions.takenOver(session);
  }
}
