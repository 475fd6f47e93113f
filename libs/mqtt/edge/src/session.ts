import type { IConnectPacket } from 'mqtt-packet';
import type { Broker } from './broker';
import type { Connection } from './connection';
import type { Message, SubscriptionOptions } from './message';
import type { Timed } from './timer-wheel';
import { RetainedStore, SubscriptionTree } from './topic-tree';

export type Will = NonNullable<IConnectPacket['will']>;

/** An outbound QoS 1/2 message awaiting acknowledgement. */
export interface Inflight {
  readonly message: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  /** 0: PUBLISH sent, awaiting PUBACK/PUBREC; 1: PUBREL sent, awaiting PUBCOMP. */
  phase: 0 | 1;
}

export interface Queued {
  readonly message: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
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

  constructor(
    readonly id: string,
    readonly broker: Broker,
  ) {}
}

/**
 * MQTT session state (§4.1): subscriptions, outbound messages in flight or
 * queued, inbound QoS 2 identifiers awaiting PUBREL. It outlives its
 * connection when its expiry interval is non-zero. Collections are created on
 * first use to keep idle sessions small.
 */
export class Session implements Timed {
  wheelSlot = -1;
  connection: Connection | null = null;
  subscriptions: Map<string, SubscriptionOptions> | null = null;
  inflight: Map<number, Inflight> | null = null;
  queue: Queued[] | null = null;
  awaitingRel: Set<number> | null = null;
  nextPacketId = 1;
  /** How long the session survives its connection, ms (0: it ends with it). */
  expiryMs = 0;
  /** While offline: when the session ends. */
  expiresAt = Infinity;
  /** 5.0 Will Delay Interval: a will waiting to be published while offline [MQTT-3.1.3-9]. */
  pendingWill: Will | null = null;
  willAt = Infinity;
  destroyed = false;

  constructor(
    readonly org: Org,
    readonly clientId: string,
    /** The credential the session is held under, for revocation. */
    public credentialId: string,
    /** `kind:subject` of the principal that owns it: only the same owner may resume or take it over. */
    public owner: string,
  ) {}

  onTimer(now: number): void {
    this.org.broker.sessionTimer(this, now);
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
