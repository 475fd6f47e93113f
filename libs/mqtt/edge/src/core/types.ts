import type { ClusterBus } from '@signet/mqtt-cluster';
import type { ProtocolVersion } from '../codec/codec';
import type { EdgeLimits } from './limits';
import type { ConnectAuthenticator, ConnectRefusal, Principal } from './principal';

export type TransportKind = 'tcp' | 'ws';

export interface EdgeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Why a live, accepted connection ended. */
export type DisconnectReason =
  /** DISCONNECT from the client. */
  | 'client_disconnect'
  /** The socket closed or failed without DISCONNECT. */
  | 'connection_lost'
  | 'keepalive_timeout'
  | 'credential_expired'
  | 'revoked'
  | 'taken_over'
  /** An administrator kicked the client id (GET/DELETE /v1/sessions): 5.0 DISCONNECT 0x98. */
  | 'administrative_action'
  | 'protocol_error'
  | 'malformed_packet'
  | 'packet_too_large'
  /** Unauthenticated connections of the address (or of all addresses) hold more than their byte budget. */
  | 'unauthenticated_memory'
  | 'receive_maximum_exceeded'
  /** More than maxWriteBufferBytes waiting for longer than slowConsumerGraceMs, or above slowConsumerMaxBytes. */
  | 'slow_consumer'
  | 'server_shutdown'
  | 'internal_error';

export type SubscribeDenial = 'not_authorized' | 'invalid_filter' | 'shared_subscription' | 'quota_exceeded';

/**
 * Optional callbacks for metrics and audit. They run synchronously on the
 * packet path: keep them cheap (increment a counter); the edge builds the
 * event object only when the hook is set.
 */
export interface EdgeHooks {
  connectAccepted?(event: {
    principal: Principal;
    clientId: string;
    protocolVersion: ProtocolVersion;
    transport: TransportKind;
    sessionPresent: boolean;
  }): void;
  connectRefused?(event: {
    reason: ConnectRefusal;
    detail?: string;
    protocolVersion: number;
    transport: TransportKind;
    clientId?: string;
  }): void;
  publishDenied?(event: { principal: Principal; clientId: string; topic: string }): void;
  /** An accepted PUBLISH (before routing); `bytes` is the payload size. For per-credential usage counting. */
  published?(principal: Principal, bytes: number): void;
  subscribeDenied?(event: { principal: Principal; clientId: string; filter: string; reason: SubscribeDenial }): void;
  disconnected?(event: { principal: Principal; clientId: string; reason: DisconnectReason }): void;
}

export interface EdgeOptions {
  authenticator: ConnectAuthenticator;
  logger?: EdgeLogger;
  limits?: Partial<EdgeLimits>;
  /** Clock in ms since the epoch, for tests. Read once per sweep and per CONNECT, not per packet. */
  now?: () => number;
  hooks?: EdgeHooks;
  /**
   * The deny set of revoked credential ids the authenticators consult, when there is one: then it is the
   * edge's only revoked-set (a CONNECT whose authentication raced a revocation is refused by it). Without
   * it the edge remembers the ids given to revoke() for revokeMemoryMs.
   */
  revoked?: { has(credentialId: string): boolean };
  /**
   * The bus shared with other edges (`@signet/mqtt-cluster`): routes, per-edge inboxes, client-id claims.
   * Started by the first listen, closed by close(). Without it the edge is on its own, as before.
   */
  cluster?: ClusterBus;
}

export interface EdgeStats {
  /** Open sockets, including those that have not completed CONNECT. */
  connections: number;
  /** Sessions held, connected or not. */
  sessions: number;
  /** PUBLISH packets received (accepted or denied). */
  messagesIn: number;
  /** PUBLISH packets sent. */
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  connectsAccepted: number;
  connectsRefused: number;
  publishDenied: number;
  subscribeDenied: number;
  /** Messages not delivered: offline QoS 0, full queues, QoS 0 to a backed-up socket, too large for the client. */
  messagesDropped: number;
  /** Connections closed as slow consumers (reason `slow_consumer`). */
  slowConsumers: number;
  /** Remote addresses and identities holding a connect-rate bucket (idle ones are dropped by the sweep). */
  connectRateBuckets: number;
  /** Bytes held for connections that have not authenticated yet; back to 0 when they authenticate or close. */
  unauthenticatedBytes: number;
  retainedMessages: number;
  subscriptions: number;
  orgs: number;
  /** Routes of other edges this edge knows (org, filter, edge), the stored sessions' among them; 0 without a cluster. */
  remoteRoutes: number;
}
