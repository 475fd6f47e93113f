import type { IDisconnectPacket, IPublishPacket, ISubscribePacket, IUnsubscribePacket, QoS } from 'mqtt-packet';
import { decodePacket, encodeAck, PINGRESP, shortAckId, type ProtocolVersion } from '../codec/codec';
import { FrameReader, type FrameError } from '../codec/frame-reader';
import { filtersAreWellFormed, publishTopicIsWellFormed, suspectString } from '../codec/utf8';
import type { Broker } from '../core/broker';
import { PT, RC } from '../core/codes';
import type { Message } from '../core/message';
import { disconnectFrame, encodeAliased, encodePublish } from '../core/outbound';
import { type ClientCertificate, credentialExpired, type Principal } from '../core/principal';
import type { Session, Will } from '../core/session';
import type { Timed } from '../core/timer-wheel';
import type { DisconnectReason, TransportKind } from '../core/types';
import { onAck } from '../handlers/acks';
import { onAuthPacket } from '../handlers/auth';
import { onConnect, onDisconnect } from '../handlers/connect';
import type { Peer } from '../handlers/peer';
import { onPublish } from '../handlers/publish';
import { onSubscribe, onUnsubscribe } from '../handlers/subscribe';

// Connection states: plain numbers (typed `number` so TypeScript does not narrow across calls that change them).
const AWAIT_CONNECT: number = 0;
const AUTHENTICATING: number = 1;
const CONNECTED: number = 2;
/** Closed as far as MQTT goes; the socket is ended by the next flush, after its last packets. */
const ENDING: number = 3;
/** The socket is ended; waiting for it to close (destroyed after closeGraceMs). */
const CLOSING: number = 4;
const CLOSED: number = 5;

/**
 * One client connection: the MQTT state machine over an abstract byte transport (TcpConnection,
 * WsConnection, WssConnection), the dispatcher of its packets to the handlers (handlers/*: CONNECT first,
 * once), its timers and its write batching. Frames come from FrameReader; writes are collected and flushed
 * by the broker once per loop turn. The broker sees it as a ClientLink, the handlers as a Peer.
 */
export abstract class Connection extends FrameReader implements Peer, Timed {
  wheelSlot = -1;
  session: Session | null = null;
  principal: Principal | null = null;
  sendQuota: number;
  authUsername: string | undefined = undefined;
  authMethod: string | undefined = undefined;
  /** Remote address, read once by open() (per-address connection count). */
  remoteKey = '';
  connectedAt = 0;
  protocolVersion: ProtocolVersion = 4;
  keepaliveMs = 0;
  clientMaxPacket = Infinity;
  will: Will | null = null;
  willDelayMs = 0;
  /**
   * 5.0 server→client Topic Aliases: at most min(the client's Topic Alias Maximum, maxTopicAliases) topics get
   * one, first come first served, for the life of the connection [MQTT-3.1.2-26], [MQTT-3.3.2-11]; 0: none
   * is sent [MQTT-3.1.2-27]. The map is made on the first PUBLISH to such a client.
   */
  outAliasMax = 0;
  aliases: Map<number, string> | null = null;
  private outAliases: Map<string, number> | null = null;
  private state = AWAIT_CONNECT;
  private lastSeen: number;
  /** Before CONNECT completes: connect timeout; while closing: when the socket is destroyed. */
  private deadline: number;
  private out: Buffer | Buffer[] | null = null;
  /** Packets received while an asynchronous authentication is pending, handled in order after it. */
  private pending: Buffer[] | null = null;
  private pendingSize = 0;
  /** Bytes this connection has charged to the broker's UnauthenticatedBudget (0 once authenticated). */
  private unauthenticatedHeld = 0;

  constructor(readonly broker: Broker) {
    super();
    this.sendQuota = broker.limits.maxInflight;
    this.lastSeen = broker.clock;
    this.deadline = broker.now() + broker.limits.connectTimeoutMs;
    // A socket that does not complete CONNECT (authentication included) in time is closed.
    broker.wheel.schedule(this, this.deadline);
  }

  abstract get transport(): TransportKind;
  /** Over TLS (mqtts, wss). */
  abstract get secure(): boolean;
  /** Hands bytes to the socket. */
  protected abstract writeOut(data: Buffer | Buffer[]): void;
  /**
   * Graceful close after pending writes. `nothingWritten`: this last flush
   * carried no packet (e.g. a 3.1.1 session revoked), so the transport may
   * simply close instead of a half-close handshake.
   */
  protected abstract endTransport(nothingWritten: boolean): void;
  protected abstract destroyTransport(): void;
  /** Bytes accepted by the socket but not yet sent. */
  abstract bufferedBytes(): number;
  abstract remoteAddress(): string;

  clientCertificate(): ClientCertificate | undefined {
    return undefined;
  }

  /** The transport is open: the connection joins the broker (its address read now, while it may be asked). */
  open(): void {
    this.remoteKey = this.remoteAddress();
    this.broker.register(this);
  }

  isConnected(): boolean {
    return this.state === CONNECTED;
  }

  takeWill(): Will | null {
    const will = this.will;
    this.will = null;
    return will;
  }

  adoptPrincipal(principal: Principal): void {
    this.principal = principal;
    if (this.state === CONNECTED) this.scheduleTimer();
  }

  get clientId(): string {
    return this.session?.clientId ?? '';
  }

  // ------------------------------------------------------------ CONNECT steps (handlers/connect.ts)

  startAuthentication(): void {
    this.state = AUTHENTICATING;
  }

  isAuthenticating(): boolean {
    return this.state === AUTHENTICATING;
  }

  accept(principal: Principal, session: Session): void {
    this.principal = principal;
    this.session = session;
    this.state = CONNECTED;
    this.connectedAt = Date.now();
    this.releaseUnauthenticated();
    this.lastSeen = this.broker.clock;
    this.scheduleTimer();
  }

  replayPending(): void {
    const pending = this.pending;
    this.pending = null;
    this.pendingSize = 0;
    if (pending !== null) {
      for (const frame of pending) if (!this.onFrame(frame)) break;
    }
  }

  // ------------------------------------------------------------ transport events

  /** Bytes from the transport. Nothing a client sends may throw out of here. */
  onData(chunk: Buffer): void {
    if (this.state >= ENDING) return;
    this.lastSeen = this.broker.clock;
    this.broker.counters.bytesIn += chunk.length;
    try {
      this.readFrames(chunk);
      if (this.state <= AUTHENTICATING) this.chargeUnauthenticated();
    } catch (err) {
      this.broker.logger.error({ err, clientId: this.clientId }, 'mqtt edge failed handling a packet');
      this.kick(RC.UNSPECIFIED, 'internal_error', true);
    }
  }

  /** The transport is closed (by either side). */
  onTransportClosed(): void {
    const state = this.state;
    if (state === CLOSED) return;
    this.state = CLOSED;
    this.out = null;
    this.pending = null;
    this.resetFrames();
    this.releaseUnauthenticated();
    this.broker.wheel.cancel(this);
    if (state === CONNECTED) {
      // No DISCONNECT was received: the will is published [MQTT-3.1.2-8].
      this.broker.sessions.detach(this, this.will, this.willDelayMs, 'connection_lost');
      this.will = null;
    }
    this.broker.unregister(this);
  }

  onTimer(now: number): void {
    const state = this.state;
    if (state === CONNECTED) {
      const principal = this.principal!;
      if (credentialExpired(principal, now)) {
        // The will goes out only if the credential's org says so (Principal.willOnEnd).
        this.kick(RC.MAXIMUM_CONNECT_TIME, 'credential_expired', principal.willOnEnd === 'publish');
        return;
      }
      if (this.keepaliveMs > 0 && now - this.lastSeen >= this.keepaliveMs) {
        this.kick(RC.KEEP_ALIVE_TIMEOUT, 'keepalive_timeout', true);
        return;
      }
      this.scheduleTimer();
    } else if (state === AWAIT_CONNECT || state === AUTHENTICATING) {
      if (now >= this.deadline) this.shutdown('protocol_error', false);
      else this.broker.wheel.schedule(this, this.deadline);
    } else if (state === CLOSING) {
      if (now >= this.deadline) this.destroyTransport();
      else this.broker.wheel.schedule(this, this.deadline);
    }
  }

  private scheduleTimer(): void {
    const ka = this.keepaliveMs > 0 ? this.lastSeen + this.keepaliveMs : Infinity;
    this.broker.wheel.schedule(this, Math.min(ka, this.principal!.expiresAt));
  }

  // ------------------------------------------------------------ writing

  write(buf: Buffer): void {
    const out = this.out;
    if (out === null) {
      this.out = buf;
      this.broker.writes.markDirty(this);
    } else if (Array.isArray(out)) {
      out.push(buf);
    } else {
      this.out = [out, buf];
    }
  }

  flush(): void {
    const out = this.out;
    this.out = null;
    if (this.state === CLOSED) return;
    if (out !== null) {
      if (Array.isArray(out)) {
        let n = 0;
        for (const b of out) n += b.length;
        this.broker.counters.bytesOut += n;
      } else {
        this.broker.counters.bytesOut += out.length;
      }
      this.writeOut(out);
    }
    if (this.state === ENDING) {
      this.state = CLOSING;
      // May close synchronously (uWS calls the close handler inside end()).
      this.endTransport(out === null);
      if (this.state === CLOSING) {
        this.deadline = this.broker.clock + this.broker.limits.closeGraceMs;
        this.broker.wheel.schedule(this, this.deadline);
      }
    }
  }

  /**
   * After a write, with `buffered` bytes waiting in the transport: above maxWriteBufferBytes the broker
   * watches the connection as a slow consumer, above slowConsumerMaxBytes it is disconnected after this flush.
   */
  protected backlog(buffered: number): void {
    const limits = this.broker.limits;
    if (buffered > limits.maxWriteBufferBytes && this.state === CONNECTED) {
      this.broker.writes.markBacklogged(this, buffered > limits.slowConsumerMaxBytes);
    }
  }

  // ------------------------------------------------------------ closing

  /**
   * Server-initiated close. 5.0 clients get DISCONNECT with `reasonCode` first
   * (only once CONNACK is sent [MQTT-3.2.0-1]; -1: none).
   */
  kick(reasonCode: number, reason: DisconnectReason, publishWill: boolean): void {
    if (this.state >= ENDING) return;
    if (this.state === CONNECTED && this.protocolVersion === 5 && reasonCode >= 0) this.write(disconnectFrame(reasonCode));
    this.shutdown(reason, publishWill);
  }

  /**
   * Ends the connection now as far as MQTT goes (session detached, nothing
   * more read or delivered); the socket write and end happen in the next
   * batched flush. This keeps revoke() of thousands of sessions a pure
   * in-memory pass: the syscalls follow in one flush. (A revoke of only a
   * few sessions flushes them itself, at once: see Sessions.revoke.)
   */
  shutdown(reason: DisconnectReason, publishWill: boolean): void {
    const state = this.state;
    if (state >= ENDING) return;
    this.state = ENDING;
    this.pending = null;
    this.resetFrames();
    this.releaseUnauthenticated();
    this.broker.wheel.cancel(this);
    if (state === CONNECTED) {
      // Will: published unless the client sent a normal DISCONNECT [MQTT-3.1.2-8], [MQTT-3.14.4-3].
      this.broker.sessions.detach(this, publishWill ? this.will : null, this.willDelayMs, reason);
      this.will = null;
    }
    // The client's own DISCONNECT ends one connection, not a batch: closed now, in the turn that read it,
    // as a bare socket server would (a close deferred to the next turn measured about 1.5 times as costly in the kernel).
    if (reason === 'client_disconnect') this.flush();
    else this.broker.writes.markDirty(this);
  }

  protocolError(reasonCode: number = RC.PROTOCOL_ERROR, reason: DisconnectReason = 'protocol_error'): void {
    this.kick(reasonCode, reason, true);
  }

  // ------------------------------------------------------------ frames: the dispatcher

  /** Before CONNECT the far smaller maxConnectPacketSize: nobody is known yet to hold a large packet for. */
  protected frameLimit(): number {
    const limits = this.broker.limits;
    return this.state === AWAIT_CONNECT ? limits.maxConnectPacketSize : limits.maxPacketSize;
  }

  /** Before authentication: what this connection holds now (partial packet, queued packets) is charged. */
  private chargeUnauthenticated(): void {
    const held = this.pendingBytes + this.pendingSize;
    const delta = held - this.unauthenticatedHeld;
    if (delta === 0) return;
    this.unauthenticatedHeld = held;
    if (!this.broker.unauthenticated.change(this.remoteKey, delta)) this.shutdown('unauthenticated_memory', false);
  }

  private releaseUnauthenticated(): void {
    if (this.unauthenticatedHeld === 0) return;
    this.broker.unauthenticated.change(this.remoteKey, -this.unauthenticatedHeld);
    this.unauthenticatedHeld = 0;
  }

  protected onFrameError(error: FrameError): void {
    if (error === 'too_large') this.kick(RC.PACKET_TOO_LARGE, 'packet_too_large', true);
    else this.kick(RC.MALFORMED, 'malformed_packet', true);
  }

  protected onFrame(frame: Buffer): boolean {
    switch (this.state) {
      case CONNECTED:
        this.onPacket(frame);
        return this.state === CONNECTED;
      case AWAIT_CONNECT:
        // The first packet must be CONNECT [MQTT-3.1.0-1].
        if (frame[0] >> 4 !== PT.CONNECT) {
          this.shutdown('protocol_error', false);
          return false;
        }
        onConnect(this, frame);
        return this.state < ENDING;
      case AUTHENTICATING: {
        this.pendingSize += frame.length;
        if (this.pendingSize > this.broker.limits.maxPendingAuthBytes) {
          this.shutdown('protocol_error', false);
          return false;
        }
        if (this.pending === null) this.pending = [frame];
        else this.pending.push(frame);
        return true;
      }
      default:
        return false;
    }
  }

  /** A packet after CONNECT: decoded (fast paths first), checked for what the decoder lets through, handled. */
  private onPacket(frame: Buffer): void {
    const type = frame[0] >> 4;
    const version = this.protocolVersion;
    switch (type) {
      case PT.PUBLISH: {
        // DUP on a QoS 0 PUBLISH is a protocol violation [MQTT-3.3.1-2], [MQTT-4.8.0-1]: one bit test, no decoding.
        if ((frame[0] & 0x0e) === 0x08) return this.protocolError();
        const packet = decodePacket(frame, version);
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        // Ill-formed UTF-8 in a topic closes the connection [MQTT-1.5.3-1] (5.0: DISCONNECT 0x81).
        if ((packet as IPublishPacket).topic.includes('\uFFFD') && !publishTopicIsWellFormed(frame)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return onPublish(this, packet as IPublishPacket);
      }
      case PT.PUBACK:
      case PT.PUBREC:
      case PT.PUBREL:
      case PT.PUBCOMP: {
        let id = shortAckId(frame);
        let reasonCode = 0;
        if (id < 0) {
          // 3.1.1 acknowledgements are exactly a packet identifier: anything else is malformed [MQTT-4.8.0-1].
          if (version !== 5) return this.protocolError(RC.MALFORMED, 'malformed_packet');
          const packet = decodePacket(frame, version);
          // mqtt-packet reports a packet identifier cut short as -1 instead of failing (found by edge.fuzz.spec.ts).
          if (packet === null || packet.messageId === undefined || packet.messageId < 0) {
            return this.protocolError(RC.MALFORMED, 'malformed_packet');
          }
          id = packet.messageId;
          reasonCode = (packet as { reasonCode?: number }).reasonCode ?? 0;
        }
        return onAck(this, type, id, reasonCode);
      }
      case PT.SUBSCRIBE: {
        const packet = decodePacket(frame, version) as ISubscribePacket | null;
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        // Ill-formed UTF-8 or U+0000 in a filter: malformed, the connection is closed [MQTT-1.5.3-1/2] (5.0: DISCONNECT 0x81).
        if (packet.subscriptions.some((sub) => suspectString(sub.topic)) && !filtersAreWellFormed(frame, version, true)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return onSubscribe(this, packet);
      }
      case PT.UNSUBSCRIBE: {
        const packet = decodePacket(frame, version) as IUnsubscribePacket | null;
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        if (packet.unsubscriptions.some(suspectString) && !filtersAreWellFormed(frame, version, false)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return onUnsubscribe(this, packet);
      }
      case PT.PINGREQ:
        // Fixed 2 bytes, no flags [MQTT-3.12]; answered with PINGRESP [MQTT-3.12.4-1].
        if (frame.length !== 2 || frame[0] !== 0xc0) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        this.write(PINGRESP);
        return;
      case PT.DISCONNECT: {
        // 3.1.1 DISCONNECT is two fixed bytes [MQTT-3.14.1-1]: no decoding needed; anything else is malformed.
        if (version !== 5) {
          if (frame.length === 2 && frame[0] === 0xe0 && frame[1] === 0) return this.shutdown('client_disconnect', false);
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        const packet = decodePacket(frame, version);
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        return onDisconnect(this, packet as IDisconnectPacket);
      }
      case PT.CONNECT:
        // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
        return this.protocolError();
      case PT.AUTH:
        // 5.0 re-authentication (handlers/auth.ts); AUTH does not exist in 3.1.1.
        if (version !== 5) return this.protocolError();
        return onAuthPacket(this, frame);
      default:
        // Server-to-client packets and the reserved type 0.
        return this.protocolError();
    }
  }

  // ------------------------------------------------------------ outbound (core/outbound.ts encodes)

  sendPublish(
    message: Message,
    qos: QoS,
    retain: boolean,
    messageId: number,
    dup: boolean,
    ids: readonly number[] | null = null,
  ): boolean {
    if (this.state !== CONNECTED) return false;
    const version = this.protocolVersion;
    // Subscription Identifiers are 5.0 only; a copy carrying them is per subscriber, not shared.
    const subIds = version === 5 ? ids : null;
    let frame: Buffer | null;
    if (this.outAliasMax !== 0) {
      // A client that accepts Topic Aliases: encoded per subscriber (the alias is this connection's).
      frame = encodeAliased((this.outAliases ??= new Map()), this.outAliasMax, this.clientMaxPacket, message, qos, retain, messageId, dup, subIds, this.broker.clock);
    } else {
      frame =
        qos === 0 && !retain && message.expiresAt === Infinity && subIds === null
          ? this.broker.qos0Frames.frame(message, version)
          : encodePublish(message, qos, retain, messageId, dup, version, this.broker.clock, subIds);
      if (frame !== null && frame.length > this.clientMaxPacket) frame = null;
    }
    if (frame === null) return false;
    this.write(frame);
    this.broker.counters.messagesOut++;
    return true;
  }

  sendPubrel(messageId: number): void {
    this.write(encodeAck(PT.PUBREL, messageId, 0, this.protocolVersion === 5));
  }
}
