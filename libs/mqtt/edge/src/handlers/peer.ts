import type { ProtocolVersion } from '../codec/codec';
import type { Broker } from '../core/broker';
import type { ClientCertificate, Principal } from '../core/principal';
import type { ClientLink, Session, Will } from '../core/session';
import type { DisconnectReason, TransportKind } from '../core/types';

/**
 * A connection as its packet handlers see it (aedes' `client`): the per-connection MQTT state the handlers
 * read and set, and the few state-machine steps they may take. Handlers are plain functions of a Peer and
 * a packet; the Connection (connection/connection.ts) is the one implementation and its dispatcher calls them.
 */
export interface Peer extends ClientLink {
  readonly broker: Broker;
  readonly transport: TransportKind;
  /** Set from the CONNECT's protocol level. */
  protocolVersion: ProtocolVersion;
  sendQuota: number;
  /** 5.0 Maximum Packet Size of the client [MQTT-3.1.2-25]; Infinity when it gave none. */
  clientMaxPacket: number;
  /** Server→client Topic Aliases this connection may send: min(the client's Topic Alias Maximum, maxTopicAliases). */
  outAliasMax: number;
  /** 5.0 client→server Topic Alias mappings of this connection (§3.3.2.3.4), made on first use; never carried to another [MQTT-3.3.2-7]. */
  aliases: Map<number, string> | null;
  /** The CONNECT's username and 5.0 Authentication Method, for re-authentication (auth.ts). */
  authUsername: string | undefined;
  authMethod: string | undefined;
  /** 1.5 × keepalive in ms; 0: no keepalive [MQTT-3.1.2-24]. */
  keepaliveMs: number;
  /** The connect-time will and its 5.0 Will Delay Interval. */
  will: Will | null;
  willDelayMs: number;
  remoteAddress(): string;
  /** The TLS client certificate, read when CONNECT is authenticated; undefined without TLS or without one. */
  clientCertificate(): ClientCertificate | undefined;
  /** Queues bytes for the next batched flush. */
  write(buf: Buffer): void;
  /** Closes for a protocol violation: 5.0 DISCONNECT `reasonCode` (default 0x82), will published. */
  protocolError(reasonCode?: number, reason?: DisconnectReason): void;
  /** Ends the connection as far as MQTT goes, without DISCONNECT; the socket ends at the next flush. */
  shutdown(reason: DisconnectReason, publishWill: boolean): void;
  /** The CONNECT passed its checks: packets that follow wait for the authentication. */
  startAuthentication(): void;
  /** Still waiting for the authentication (not closed or timed out meanwhile). */
  isAuthenticating(): boolean;
  /** The CONNECT is accepted with this principal and session: connected, keepalive and expiry timer running. */
  accept(principal: Principal, session: Session): void;
  /** Handles, in order, the packets that arrived during the authentication. */
  replayPending(): void;
  /** A re-authenticated credential (auth.ts): its grants apply from now on, and its expiry. */
  adoptPrincipal(principal: Principal): void;
}
