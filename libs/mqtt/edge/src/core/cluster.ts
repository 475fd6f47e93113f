import type { ClaimResult, ClusterBus, ClusterMessage, ClusterNode, SessionRecord, SharedRetained } from '@signet/mqtt-cluster';
import type { QoS } from 'mqtt-packet';
import type { EdgeLimits } from './limits';
import { innerFilter, SHARE_PREFIX, type ForwardedProperties, type Message, type SubscriptionOptions } from './message';
import { isReservedTopic } from './reserved';
import { RemoteGroup, type Org, type Session } from './session';
import type { EdgeLogger } from './types';
import { SubscriptionTree } from './topic-tree';

/** Options a remote edge is filed under in an org's remote trie: only the edge ids matter. */
const REMOTE: SubscriptionOptions = Object.freeze({ qos: 2, nl: false, rap: false, rh: 0, ids: null });

/** A takeover heard before the claim it fences resolved is remembered this long. */
const FENCE_MS = 30_000;

/** What the cluster link needs of the broker (core/broker.ts implements it). */
export interface ClusterHost {
  readonly clock: number;
  readonly limits: EdgeLimits;
  readonly logger: EdgeLogger;
  readonly counters: { messagesDropped: number };
  deliver(session: Session, message: Message, qos: QoS, retain: boolean, ids: readonly number[] | null): void;
  /** The org, made when absent (a remote route may name an org with no session here yet). */
  org(orgId: string): Org;
  findOrg(orgId: string): Org | undefined;
  /**
   * Delivers to this edge's subscribers only: a message from the bus never goes back onto it. `serves`:
   * which of its shared groups get it (all when absent); `subscribers` false: only those groups.
   */
  routeLocal(org: Org, message: Message, from: Session | null, serves?: (groupKey: string) => boolean, subscribers?: boolean): void;
  /** The session of a client id another edge has taken over: its connection closed (0x8E), its state dropped. */
  takenOver(session: Session): void;
  /** The sessions with a live connection. */
  liveSessions(): Iterable<Session>;
  /** Closes the client id's live connection here (5.0 DISCONNECT 0x98); false when it has none here. */
  kick(orgId: string, clientId: string): boolean;
}

function toClusterMessage(message: Message, clock: number): ClusterMessage {
  return {
    topic: message.topic,
    payload: message.payload,
    qos: message.qos,
    retain: message.retain,
    ...(message.properties !== undefined ? { properties: message.properties as Record<string, unknown> } : {}),
    ...(message.expiresAt !== Infinity ? { ttlMs: message.expiresAt - clock } : {}),
  };
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
  private readonly edges = new Map<string, SubscriptionOptions>();
  private readonly fences = new Map<string, { epoch: number; at: number }>();
  private readonly groupScratch = new Map<RemoteGroup, SubscriptionOptions>();
  private routeCount = 0;

  constructor(
    readonly bus: ClusterBus,
    private readonly host: ClusterHost,
  ) {}

  get remoteRoutes(): number {
    return this.routeCount;
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
            host.deliver(session, message, qos, true, options.ids);
          }
        },
        (err: unknown) => host.logger.warn({ err, filter }, 'retained messages not read: cluster store unavailable'),
      );
    }
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
  forward(org: Org, message: Message): ((groupKey: string) => boolean) | undefined {
    const clock = this.host.clock;
    if (message.expiresAt <= clock) return undefined;
    const edges = this.edges;
    if (org.remote !== null) org.remote.match(message.topic, null, edges);
    const given = org.remoteShared !== null ? this.pickGroups(org, message.topic) : undefined;
    if (edges.size === 0 && given === undefined) return undefined;
    const out = toClusterMessage(message, clock);
    try {
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
    } finally {
      edges.clear();
    }
  }

  /** For each shared group of `org` matching `topic` that other edges have: the edge that serves it. */
  private pickGroups(org: Org, topic: string): { byEdge: Map<string, string[]>; elsewhere: Set<string> } | undefined {
    const groups = this.groupScratch;
    org.remoteShared!.match(topic, null, groups);
    if (groups.size === 0) return undefined;
    const byEdge = new Map<string, string[]>();
    const elsewhere = new Set<string>();
    try {
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
    } finally {
      groups.clear();
    }
    return { byEdge, elsewhere };
  }

  // ---------------------------------------------------------------- client ids

  claim(orgId: string, clientId: string, owner: string, session: SessionRecord): ClaimResult | Promise<ClaimResult> {
    return this.bus.claim(orgId, clientId, owner, { session });
  }

  /** A claim resolved with `epoch` after a takeover with a newer one was already heard: it lost. */
  fenced(orgId: string, clientId: string, epoch: number): boolean {
    const fence = this.fences.get(`${orgId}\0${clientId}`);
    return fence !== undefined && fence.epoch > epoch;
  }

  release(session: Session): void {
    const epoch = session.epoch;
    session.epoch = 0;
    this.bus.release(session.org.id, session.clientId, epoch);
  }

  // ---------------------------------------------------------------- from the bus

  deliver(orgId: string, message: ClusterMessage): void {
    // Never the edge's own namespace, whatever arrives; an org with nobody here has no one to deliver to.
    if (isReservedTopic(message.topic)) return;
    const org = this.host.findOrg(orgId);
    if (org === undefined) return;
    const shared = message.shared;
    const serves = shared === undefined ? undefined : (key: string) => shared.includes(key);
    this.host.routeLocal(org, fromClusterMessage(message, this.host.clock), null, serves, message.subscribers !== false);
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
      if (filter.startsWith(SHARE_PREFIX)) this.addGroupEdge(org, filter, edgeId);
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
        else this.host.takenOver(session);
      };
      // Not a takeover: a connection made meanwhile on another edge is the newer one and keeps the id.
      const result = this.bus.claim(session.org.id, session.clientId, session.owner, { takeover: false, ...(session.record !== null ? { session: session.record } : {}) });
      if (result instanceof Promise) result.then(claimed, () => undefined);
      else claimed(result);
    }
  }

  kick(orgId: string, clientId: string): void {
    this.host.kick(orgId, clientId);
  }

  takenOver(orgId: string, clientId: string, epoch: number): void {
    const now = Date.now();
    if (this.fences.size > 1000) for (const [k, f] of this.fences) if (now - f.at > FENCE_MS) this.fences.delete(k);
    this.fences.set(`${orgId}\0${clientId}`, { epoch, at: now });
    const session = this.host.findOrg(orgId)?.sessions.get(clientId);
    if (session !== undefined && session.epoch < epoch) this.host.takenOver(session);
  }
}
