import type { QoS } from 'mqtt-packet';

import type { Broker } from './broker';
import type { ClusterLink } from './cluster';
import type { EdgeLimits } from './limits';
import { ownPayload, type ForwardedProperties, type Message, type SubscriptionOptions } from './message';
import type { ClientLink, Org, Session, Will } from './session';
import type { EdgeLogger } from './types';
import type { WritePressure } from './write-pressure';

/** A will's 5.0 properties as PUBLISH properties: Will Delay is not one, and expiry is recomputed on send. */
function willProperties(props: Will['properties']): ForwardedProperties | undefined {
  if (!props) return undefined;
  const { willDelayInterval: _d, messageExpiryInterval: _e, ...rest } = props;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * Where messages go: a client's PUBLISH and a will are retained and routed to the org's matching
 * subscriptions (and to the other edges that have some), and each delivery is sent, or queued while the
 * session is offline or its window is full, then drained as acknowledgements free it.
 */
export class Delivery {
  private readonly limits: EdgeLimits;
  private readonly logger: EdgeLogger;
  private readonly counters: Broker['counters'];
  private readonly writes: WritePressure;
  private readonly cluster: ClusterLink | null;
  private readonly now: () => number;

  constructor(private readonly broker: Broker) {
    this.limits = broker.limits;
    this.logger = broker.logger;
    this.counters = broker.counters;
    this.writes = broker.writes;
    this.cluster = broker.cluster;
    this.now = broker.now;
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
    if (message.expiresAt <= this.broker.clock) return;
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
      if (next.message.expiresAt <= this.broker.clock) continue;
      this.sendTracked(session, conn, next.message, next.qos, next.retain, next.ids, next.ref);
    }
    if (queue.length === 0 && session.queue === queue) session.queue = null;
  }
}
