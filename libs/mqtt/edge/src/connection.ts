import { randomUUID } from 'node:crypto';
import type {
  IConnackPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  QoS,
} from 'mqtt-packet';
import { topicFilterProblem, topicNameProblem } from '@signet/permissions';
import type { Broker, SessionRequest } from './broker';
import {
  connackV4,
  connectFieldsFit,
  decodeConnect,
  decodePacket,
  encode,
  encodeAck,
  encodePublishQos0,
  peekProtocolLevel,
  PINGRESP,
  shortAckId,
  varIntSize,
  type ProtocolVersion,
} from './codec';
import { PT, RC } from './codes';
import { FrameReader, type FrameError } from './frame-reader';
import {
  forwardedProperties,
  innerFilter,
  ownPayload,
  SHARE_PREFIX,
  shareName,
  type Message,
  type SubscriptionOptions,
} from './message';
import { CONNACK_CODES, type AuthResult, type ConnectRefusal, type Principal } from './principal';
import { AUTH_METHOD, onAuthPacket, onReservedPublish, RESERVED_PREFIX, RESULT_TOPIC } from './reauth';
import type { EdgeLimits } from './limits';
import type { Session, Will } from './session';
import type { Timed } from './timer-wheel';
import type { DisconnectReason, SubscribeDenial, TransportKind } from './types';
import { connectStringsAreWellFormed, filtersAreWellFormed, publishTopicIsWellFormed, suspectString } from './utf8';

// Connection states: plain numbers (typed `number` so TypeScript does not narrow across calls that change them).
const AWAIT_CONNECT: number = 0;
const AUTHENTICATING: number = 1;
const CONNECTED: number = 2;
/** Closed as far as MQTT goes; the socket is ended by the next flush, after its last packets. */
const ENDING: number = 3;
/** The socket is ended; waiting for it to close (destroyed after closeGraceMs). */
const CLOSING: number = 4;
const CLOSED: number = 5;

/** What CONNECT asked for, carried across an asynchronous authentication. */
interface ConnectContext {
  request: SessionRequest;
  clientIdAssigned: boolean;
  /** Session expiry granted, seconds, when it differs from the request (5.0 CONNACK property). */
  expiryGranted: number | undefined;
  serverKeepAlive: number | undefined;
  /** 5.0: the full CONNACK would exceed the client's Maximum Packet Size, so it goes without its optional properties. */
  trimConnack: boolean;
}

/**
 * Size of a 5.0 SUBACK or UNSUBACK without properties for `n` filters: fixed header, packet identifier,
 * Property Length 0, one reason code per filter.
 */
function ackSize(n: number): number {
  const remaining = 3 + n;
  return 1 + varIntSize(remaining) + remaining;
}

/**
 * Encoding cache for QoS 0 PUBLISH: one routed message is encoded once per
 * protocol version however many subscribers get it. Keyed by message
 * identity (messages are immutable).
 */
let q0Message: Message | null = null;
let q0Frame4: Buffer | null = null;
let q0Frame5: Buffer | null = null;

/** 5.0 DISCONNECT frames by reason code, built once: revoke() may send thousands at a time. */
const disconnectFrames = new Map<number, Buffer>();

function disconnectFrame(reasonCode: number): Buffer {
  let frame = disconnectFrames.get(reasonCode);
  if (frame === undefined) {
    frame = encode({ cmd: 'disconnect', reasonCode }, 5)!;
    disconnectFrames.set(reasonCode, frame);
  }
  return frame;
}

/**
 * A topic name or filter beyond the edge's limits (maxTopicLength, maxTopicLevels). No allocation:
 * length first, then `/` counted only when the topic could have more levels than allowed.
 */
export function topicOverLimits(topic: string, limits: EdgeLimits): boolean {
  const length = topic.length;
  if (length > limits.maxTopicLength) return true;
  const maxLevels = limits.maxTopicLevels;
  if (length < maxLevels) return false;
  let levels = 1;
  for (let i = 0; i < length; i++) {
    if (topic.charCodeAt(i) === 0x2f && ++levels > maxLevels) return true;
  }
  return false;
}

function qos0Frame(message: Message, version: ProtocolVersion): Buffer | null {
  if (q0Message !== message) {
    q0Message = message;
    q0Frame4 = null;
    q0Frame5 = null;
  }
  // Hand-encoded when there are no 5.0 properties (the usual case): see encodePublishQos0.
  if (version === 5) {
    if (q0Frame5 === null) {
      q0Frame5 = message.properties === undefined ? encodePublishQos0(message.topic, message.payload, 5) : encodePublish(message, 0, false, 0, false, 5, 0, null);
    }
    return q0Frame5;
  }
  if (q0Frame4 === null) q0Frame4 = encodePublishQos0(message.topic, message.payload, version);
  return q0Frame4;
}

function encodePublish(
  message: Message,
  qos: QoS,
  retain: boolean,
  messageId: number,
  dup: boolean,
  version: ProtocolVersion,
  now: number,
  ids: readonly number[] | null,
  alias = 0,
  aliasKnown = false,
): Buffer | null {
  let properties: IPublishPacket['properties'] = undefined;
  if (version === 5) {
    properties = message.properties;
    if (message.expiresAt !== Infinity) {
      // The receiver gets the remaining lifetime [MQTT-3.3.2-6].
      properties = { ...properties, messageExpiryInterval: Math.max(1, Math.ceil((message.expiresAt - now) / 1000)) };
    }
    if (ids !== null) {
      // The identifiers of every subscription this copy is for [MQTT-3.3.4-3], [MQTT-3.3.4-4].
      properties = { ...properties, subscriptionIdentifier: ids.length === 1 ? ids[0] : (ids as number[]) };
    }
    // Server→client Topic Alias (§3.3.2.3.4): sent with the topic once to set it, then with an empty topic.
    if (alias !== 0) properties = { ...properties, topicAlias: alias };
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: aliasKnown ? '' : message.topic,
    payload: message.payload,
    qos,
    retain,
    dup,
    messageId: qos > 0 ? messageId : undefined,
    properties,
  };
  return encode(packet, version);
}

/**
 * One client connection: the MQTT protocol state machine over an abstract
 * byte transport (TcpConnection, WsConnection). Frames come from FrameReader;
 * writes are collected and flushed by the broker once per loop turn.
 */
export abstract class Connection extends FrameReader implements Timed {
  wheelSlot = -1;
  session: Session | null = null;
  principal: Principal | null = null;
  /** Outbound QoS 1/2 window: min(our maxInflight, the client's 5.0 Receive Maximum). */
  sendQuota: number;
  /** The CONNECT's username and 5.0 Authentication Method, for re-authentication (reauth.ts). */
  authUsername: string | undefined = undefined;
  authMethod: string | undefined = undefined;
  /** Remote address, read once by Broker.register (per-address connection count). */
  remoteKey = '';
  private state = AWAIT_CONNECT;
  private version: ProtocolVersion = 4;
  /** 1.5 × keepalive in ms; 0: no keepalive [MQTT-3.1.2-24]. */
  private keepaliveMs = 0;
  private lastSeen: number;
  /** Before CONNECT completes: connect timeout; while closing: when the socket is destroyed. */
  private deadline: number;
  /** 5.0 Maximum Packet Size of the client [MQTT-3.1.2-25]. */
  private clientMaxPacket = Infinity;
  private will: Will | null = null;
  private willDelayMs = 0;
  private out: Buffer | Buffer[] | null = null;
  /** Packets received while an asynchronous authentication is pending, handled in order after it. */
  private pending: Buffer[] | null = null;
  private pendingSize = 0;
  /**
   * 5.0 server→client Topic Aliases: at most min(the client's Topic Alias Maximum, maxTopicAliases) topics get
   * one, first come first served, for the life of the connection [MQTT-3.1.2-26], [MQTT-3.3.2-11]; 0: none
   * is sent [MQTT-3.1.2-27]. The map is made on the first PUBLISH to such a client.
   */
  private outAliasMax = 0;
  private outAliases: Map<string, number> | null = null;
  /** 5.0 client→server Topic Alias mappings of this connection (§3.3.2.3.4), made on first use; never carried to another [MQTT-3.3.2-7]. */
  private aliases: Map<number, string> | null = null;

  constructor(protected readonly broker: Broker) {
    super();
    this.sendQuota = broker.limits.maxInflight;
    this.lastSeen = broker.clock;
    this.deadline = broker.now() + broker.limits.connectTimeoutMs;
    // A socket that does not complete CONNECT (authentication included) in time is closed.
    broker.wheel.schedule(this, this.deadline);
  }

  abstract get transport(): TransportKind;
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

  isConnected(): boolean {
    return this.state === CONNECTED;
  }

  get protocolVersion(): ProtocolVersion {
    return this.version;
  }

  /** Hands over the connect-time will, which this connection then no longer publishes (revoke()). */
  takeWill(): Will | null {
    const will = this.will;
    this.will = null;
    return will;
  }

  /** A re-authenticated credential (reauth.ts): its grants apply from now on, and its expiry. */
  adoptPrincipal(principal: Principal): void {
    this.principal = principal;
    if (this.state === CONNECTED) this.scheduleTimer();
  }

  get clientId(): string {
    return this.session?.clientId ?? '';
  }

  // ------------------------------------------------------------ transport events

  /** Bytes from the transport. Nothing a client sends may throw out of here. */
  onData(chunk: Buffer): void {
    if (this.state >= ENDING) return;
    this.lastSeen = this.broker.clock;
    this.broker.counters.bytesIn += chunk.length;
    try {
      this.readFrames(chunk);
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
    this.broker.wheel.cancel(this);
    if (state === CONNECTED) {
      // No DISCONNECT was received: the will is published [MQTT-3.1.2-8].
      this.broker.detach(this, this.will, this.willDelayMs, 'connection_lost');
      this.will = null;
    }
    this.broker.unregister(this);
  }

  onTimer(now: number): void {
    const state = this.state;
    if (state === CONNECTED) {
      const principal = this.principal!;
      if (now >= principal.expiresAt) {
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
      this.broker.markDirty(this);
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
      this.broker.markBacklogged(this, buffered > limits.slowConsumerMaxBytes);
    }
  }

  // ------------------------------------------------------------ closing

  /**
   * Server-initiated close. 5.0 clients get DISCONNECT with `reasonCode` first
   * (only once CONNACK is sent [MQTT-3.2.0-1]; -1: none).
   */
  kick(reasonCode: number, reason: DisconnectReason, publishWill: boolean): void {
    if (this.state >= ENDING) return;
    if (this.state === CONNECTED && this.version === 5 && reasonCode >= 0) this.write(disconnectFrame(reasonCode));
    this.shutdown(reason, publishWill);
  }

  /**
   * Ends the connection now as far as MQTT goes (session detached, nothing
   * more read or delivered); the socket write and end happen in the next
   * batched flush. This keeps revoke() of thousands of sessions a pure
   * in-memory pass: the syscalls follow in one flush. (A revoke of only a
   * few sessions flushes them itself, at once: see Broker.revoke.)
   */
  private shutdown(reason: DisconnectReason, publishWill: boolean): void {
    const state = this.state;
    if (state >= ENDING) return;
    this.state = ENDING;
    this.pending = null;
    this.resetFrames();
    this.broker.wheel.cancel(this);
    if (state === CONNECTED) {
      // Will: published unless the client sent a normal DISCONNECT [MQTT-3.1.2-8], [MQTT-3.14.4-3].
      this.broker.detach(this, publishWill ? this.will : null, this.willDelayMs, reason);
      this.will = null;
    }
    this.broker.markDirty(this);
  }

  private protocolError(reasonCode: number = RC.PROTOCOL_ERROR, reason: DisconnectReason = 'protocol_error'): void {
    this.kick(reasonCode, reason, true);
  }

  // ------------------------------------------------------------ frames

  protected frameLimit(): number {
    return this.broker.limits.maxPacketSize;
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
        this.onConnect(frame);
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

  // ------------------------------------------------------------ CONNECT

  private onConnect(frame: Buffer): void {
    const level = peekProtocolLevel(frame);
    if (level !== 3 && level !== 4 && level !== 5) {
      // Unsupported protocol level: CONNACK 0x01 in 3.1.1 format, then close [MQTT-3.1.2-2].
      if (level >= 0) {
        const connack = encode({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4);
        if (connack !== null) this.write(connack);
      }
      this.refused('unsupported_protocol_version', level, undefined);
      return;
    }
    this.version = level;
    const decoded = decodeConnect(frame);
    if (decoded === null || decoded.cmd !== 'connect') {
      // 5.0: a malformed CONNECT may be answered with CONNACK 0x81 before closing.
      this.refuse('protocol_error', 'malformed CONNECT', RC.MALFORMED);
      return;
    }
    const packet = decoded;
    const v5 = level === 5;
    // 3.1.1: fields the flags do not announce, or a password without a user name, are a malformed
    // CONNECT, closed without CONNACK [MQTT-3.1.2-18…22], [MQTT-3.1.4-1].
    if (!v5 && !connectFieldsFit(frame)) {
      this.refuse('protocol_error', 'CONNECT fields do not match its flags');
      return;
    }
    const limits = this.broker.limits;
    const props = packet.properties;
    // Known from here on, so that even a refusing CONNACK is not sent to a client that cannot take it [MQTT-3.1.2-24].
    if (v5 && props?.maximumPacketSize !== undefined && props.maximumPacketSize > 0) this.clientMaxPacket = props.maximumPacketSize;
    // Ill-formed UTF-8 or U+0000 in the client id, will topic or username makes the CONNECT malformed
    // [MQTT-1.5.3-1/2] (5.0 [MQTT-1.5.4-1/2]): 5.0 CONNACK 0x81, 3.1.1 closed without CONNACK (§4.13).
    if (
      (suspectString(packet.clientId) || suspectString(packet.username) || suspectString(packet.will?.topic)) &&
      !connectStringsAreWellFormed(frame, level)
    ) {
      this.refuse('protocol_error', 'ill-formed UTF-8 string', RC.MALFORMED);
      return;
    }

    // Edge limits come first: nothing below reaches the authenticator (5.0 §3.2.2.2: the CONNACK reason
    // codes 0x97, 0x9F, 0x85, 0x86 are the server's to choose for these).
    if (this.broker.connectionsFrom(this.remoteKey) > limits.maxConnectionsPerIp) {
      this.refuse('connection_limit', this.remoteKey);
      return;
    }
    const now = (this.broker.clock = this.broker.now());
    if (this.broker.ipConnectRate.take(this.remoteKey, now) !== 0) {
      this.refuse('ip_rate_exceeded', this.remoteKey);
      return;
    }
    if ((packet.username?.length ?? 0) > limits.maxUsernameLength) {
      this.refuse('bad_credentials', 'username too long');
      return;
    }
    const secret = packet.password ?? (v5 ? props?.authenticationData : undefined);
    if (secret !== undefined && secret.length > limits.maxPasswordLength) {
      this.refuse('bad_credentials', 'password too long');
      return;
    }

    if (v5 && props !== undefined) {
      // The only Authentication Method is `signet-token` (the token itself, for re-authentication
      // with AUTH later [MQTT-4.12.1-1]); any other is refused with 0x8C.
      if (props.authenticationMethod !== undefined) {
        if (props.authenticationMethod !== AUTH_METHOD) {
          this.refuse('bad_authentication_method', props.authenticationMethod);
          return;
        }
        this.authMethod = AUTH_METHOD;
      }
      // Receive Maximum or Maximum Packet Size of 0 is a protocol error (5.0 §3.1.2.11.3, §3.1.2.11.4).
      if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) {
        this.refuse('protocol_error', 'zero receive maximum or maximum packet size');
        return;
      }
      if (props.receiveMaximum !== undefined) this.sendQuota = Math.min(limits.maxInflight, props.receiveMaximum);
      if (props.topicAliasMaximum !== undefined) this.outAliasMax = Math.min(props.topicAliasMaximum, limits.maxTopicAliases);
    }

    const will = packet.will;
    if (will !== undefined) {
      // Will QoS 3 is malformed [MQTT-3.1.2-14]; the will topic must be a valid topic name.
      if ((will.qos ?? 0) > 2) {
        this.refuse('protocol_error', 'will QoS 3', RC.MALFORMED);
        return;
      }
      if (topicNameProblem(will.topic) !== null) {
        this.refuse('protocol_error', 'invalid will topic', RC.TOPIC_NAME_INVALID);
        return;
      }
      // A will beyond the topic limits is refused like an invalid one (5.0 0x90; 3.1.1 closes, no CONNACK fits).
      if (topicOverLimits(will.topic, limits)) {
        this.refuse('protocol_error', 'will topic beyond limits', RC.TOPIC_NAME_INVALID);
        return;
      }
    }

    const clean = packet.clean !== false;
    let clientId = packet.clientId ?? '';
    let clientIdAssigned = false;
    if (clientId.length > limits.maxClientIdLength) {
      this.refuse('client_id_rejected', 'client id too long');
      return;
    }
    if (clientId.length === 0) {
      // 3.1.1: a zero-length client id requires clean session [MQTT-3.1.3-7/8]; 5.0: the server assigns one [MQTT-3.1.3-6].
      if (!v5 && !clean) {
        this.refuse('client_id_rejected', 'empty client id requires clean session');
        return;
      }
      clientId = `auto-${randomUUID()}`;
      clientIdAssigned = true;
    }

    let keepalive = packet.keepalive ?? 0;
    let serverKeepAlive: number | undefined;
    const maxKeepAlive = limits.maxKeepAliveSeconds;
    const minKeepAlive = limits.minKeepAliveSeconds;
    // Below the minimum (0, "no keepalive", included) or above the maximum (0 included when there is one).
    const tooShort = keepalive < minKeepAlive;
    if (tooShort || (maxKeepAlive < 65535 && (keepalive === 0 || keepalive > maxKeepAlive))) {
      if (!v5) {
        // 3.1.1 cannot be told another keepalive: refuse, as Mosquitto does.
        this.refuse('client_id_rejected', tooShort ? 'keepalive below the edge minimum' : 'keepalive above the edge maximum');
        return;
      }
      keepalive = tooShort ? minKeepAlive : maxKeepAlive;
      serverKeepAlive = keepalive; // [MQTT-3.2.2-21]
    }
    this.keepaliveMs = keepalive * 1500;

    const maxExpiry = limits.maxSessionExpirySeconds;
    let expirySeconds: number;
    let expiryGranted: number | undefined;
    if (v5) {
      const requested = props?.sessionExpiryInterval ?? 0;
      expirySeconds = Math.min(requested, maxExpiry);
      if (expirySeconds !== requested) expiryGranted = expirySeconds;
    } else {
      // 3.1.1 clean session 0: the session persists after the connection, here for at most maxSessionExpirySeconds.
      expirySeconds = clean ? 0 : maxExpiry;
    }

    if (will !== undefined) {
      // Held for the whole connection: do not let it pin the received chunk.
      if (Buffer.isBuffer(will.payload)) will.payload = ownPayload(will.payload);
      this.will = will;
      this.willDelayMs = v5 ? (will.properties?.willDelayInterval ?? 0) * 1000 : 0;
    }

    const context: ConnectContext = {
      request: { clientId, cleanStart: clean, expiryMs: expirySeconds * 1000 },
      clientIdAssigned,
      expiryGranted,
      serverKeepAlive,
      trimConnack: false,
    };
    if (v5 && this.clientMaxPacket !== Infinity) {
      // The CONNACK must fit the client's Maximum Packet Size [MQTT-3.1.2-24]: its size does not depend on the
      // outcome, so it is measured before any authentication work. Too large: the optional properties go; still
      // too large: refused with 0x95 (a 5-byte CONNACK, itself sent only if it fits).
      if (this.encodeConnack(context, false).length > this.clientMaxPacket) {
        context.trimConnack = true;
        if (this.encodeConnack(context, false).length > this.clientMaxPacket) {
          this.refuse('protocol_error', 'CONNACK larger than the client Maximum Packet Size', RC.PACKET_TOO_LARGE);
          return;
        }
      }
    }

    this.state = AUTHENTICATING;
    this.authUsername = packet.username;
    // With method `signet-token` the token may come as Authentication Data instead of the password.
    const authData = this.authMethod !== undefined ? props?.authenticationData : undefined;
    let result: AuthResult | Promise<AuthResult>;
    try {
      result = this.broker.authenticator.authenticate({
        username: packet.username,
        password: packet.password ?? (authData !== undefined ? Buffer.from(authData) : undefined),
        clientId,
        remoteAddress: this.remoteAddress(),
        protocolVersion: level,
      });
    } catch (err) {
      this.broker.logger.error({ err }, 'mqtt edge authenticator threw');
      result = { ok: false, reason: 'server_unavailable' };
    }
    if (result instanceof Promise || typeof (result as { then?: unknown }).then === 'function') {
      Promise.resolve(result).then(
        (r) => this.onAuthenticated(context, r),
        (err: unknown) => {
          this.broker.logger.error({ err }, 'mqtt edge authenticator failed');
          this.onAuthenticated(context, { ok: false, reason: 'server_unavailable' });
        },
      );
    } else {
      this.onAuthenticated(context, result as AuthResult);
    }
  }

  private onAuthenticated(context: ConnectContext, result: AuthResult): void {
    // Closed (or timed out) meanwhile: nothing was registered, nothing to undo.
    if (this.state !== AUTHENTICATING) return;
    try {
      this.completeConnect(context, result);
    } catch (err) {
      this.broker.logger.error({ err }, 'mqtt edge failed completing CONNECT');
      if (this.state === CONNECTED) this.kick(RC.UNSPECIFIED, 'internal_error', true);
      else this.shutdown('internal_error', false);
    }
  }

  private completeConnect(context: ConnectContext, result: AuthResult): void {
    const broker = this.broker;
    if (!result.ok) {
      this.refuse(result.reason, result.detail);
      return;
    }
    const principal = result.principal;
    broker.clock = broker.now();
    if (principal.expiresAt <= broker.clock) {
      this.refuse('bad_credentials', 'credential expired');
      return;
    }
    if (broker.wasRevoked(principal.credentialId)) {
      this.refuse('bad_credentials', 'credential revoked');
      return;
    }
    // Per identity only once it is proven: a stranger sending someone's username cannot spend their CONNECTs.
    if (broker.identityConnectRate.take(`${principal.kind}:${principal.orgId}:${principal.subject}`, broker.clock) !== 0) {
      this.refuse('identity_rate_exceeded', principal.subject);
      return;
    }
    if (broker.closing) {
      this.refuse('server_unavailable', 'edge shutting down');
      return;
    }
    // A will is a publish the client makes in advance: checked now, so a denied will refuses the
    // CONNECT (0x87 / 5) rather than being silently dropped later (Mosquitto does the same).
    if (this.will !== null && !principal.permissions.canPublish(this.will.topic)) {
      this.refuse('will_not_authorized', this.will.topic);
      return;
    }
    const attached = broker.attach(this, principal, context.request);
    if (attached === null) {
      this.refuse('client_id_in_use', context.request.clientId);
      return;
    }
    this.principal = principal;
    this.session = attached.session;
    this.state = CONNECTED;
    this.lastSeen = broker.clock;

    if (this.version === 5) {
      this.write(this.encodeConnack(context, attached.sessionPresent));
    } else {
      this.write(connackV4(0, attached.sessionPresent));
    }
    this.scheduleTimer();
    broker.counters.connectsAccepted++;
    const hook = broker.hooks.connectAccepted;
    if (hook !== undefined) {
      hook({
        principal,
        clientId: context.request.clientId,
        protocolVersion: this.version,
        transport: this.transport,
        sessionPresent: attached.sessionPresent,
      });
    }
    broker.resume(attached.session, this);

    const pending = this.pending;
    this.pending = null;
    this.pendingSize = 0;
    if (pending !== null) {
      for (const frame of pending) if (!this.onFrame(frame)) break;
    }
  }

  /**
   * The successful 5.0 CONNACK. `context.trimConnack` leaves out what a client may do without: Subscription
   * Identifiers Available and Shared Subscription Available (absent means available, §3.2.2.3.12/13) and Topic
   * Alias Maximum (absent means 0: the client sends no alias, §3.2.2.3.8). What stays is needed for the client
   * to follow the edge's limits and the protocol (Maximum Packet Size, Receive Maximum, Assigned Client
   * Identifier, granted Session Expiry, Server Keep Alive, Authentication Method [MQTT-4.12.0-5]); with it
   * the CONNACK is at least 10 bytes, more than any fixed-size packet the edge sends afterwards (acks ≤ 5,
   * PINGRESP 2, DISCONNECT 4), and a client with an Authentication Method gets a CONNACK longer than the
   * edge's AUTH (19 bytes), which carries the same method: all fit once the CONNACK fits [MQTT-3.1.2-24].
   */
  private encodeConnack(context: ConnectContext, sessionPresent: boolean): Buffer {
    const limits = this.broker.limits;
    const properties: NonNullable<IConnackPacket['properties']> = { maximumPacketSize: limits.maxPacketSize };
    if (!context.trimConnack) {
      // Stored per subscription and sent with each message it matches [MQTT-3.3.4-3].
      properties.subscriptionIdentifiersAvailable = true;
      // $share/<ShareName>/<filter> (§4.8.2).
      properties.sharedSubscriptionAvailable = true;
      // Client→server aliases 1…maxTopicAliases (§3.2.2.3.8); server→client ones: sendAliased.
      if (limits.maxTopicAliases > 0) properties.topicAliasMaximum = limits.maxTopicAliases;
    }
    if (limits.maxInflight < 65535) properties.receiveMaximum = limits.maxInflight;
    if (context.clientIdAssigned) properties.assignedClientIdentifier = context.request.clientId;
    if (context.expiryGranted !== undefined) properties.sessionExpiryInterval = context.expiryGranted;
    if (context.serverKeepAlive !== undefined) properties.serverKeepAlive = context.serverKeepAlive;
    // The CONNACK names the Authentication Method the CONNECT used (5.0 §3.2.2.3.17).
    if (this.authMethod !== undefined) properties.authenticationMethod = this.authMethod;
    const buf = encode({ cmd: 'connack', reasonCode: 0, sessionPresent, properties }, 5);
    if (buf === null) throw new Error('cannot encode CONNACK');
    return buf;
  }

  /** Refuses the CONNECT with its CONNACK code (when the protocol has one), then closes. */
  private refuse(reason: ConnectRefusal, detail: string | undefined, v5Code?: number): void {
    const v5 = this.version === 5;
    const code = v5 ? (v5Code ?? CONNACK_CODES[reason].v5) : CONNACK_CODES[reason].v4;
    if (code >= 0) {
      // sessionPresent is 0 on a refusal [MQTT-3.2.2-4]/[MQTT-3.2.2-6].
      const packet: IConnackPacket = v5
        ? { cmd: 'connack', reasonCode: code, sessionPresent: false }
        : { cmd: 'connack', returnCode: code, sessionPresent: false };
      const buf = encode(packet, this.version);
      // Not even a refusal goes to a client whose Maximum Packet Size is below it (5 bytes) [MQTT-3.1.2-24].
      if (buf !== null && buf.length <= this.clientMaxPacket) this.write(buf);
    }
    this.refused(reason, this.version, detail);
  }

  private refused(reason: ConnectRefusal, protocolVersion: number, detail: string | undefined): void {
    const broker = this.broker;
    broker.counters.connectsRefused++;
    broker.logger.debug({ reason, detail, transport: this.transport }, 'mqtt connect refused');
    const hook = broker.hooks.connectRefused;
    if (hook !== undefined) hook({ reason, detail, protocolVersion, transport: this.transport });
    this.shutdown('protocol_error', false);
  }

  // ------------------------------------------------------------ packets after CONNECT

  private onPacket(frame: Buffer): void {
    const type = frame[0] >> 4;
    switch (type) {
      case PT.PUBLISH: {
        // DUP on a QoS 0 PUBLISH is a protocol violation [MQTT-3.3.1-2], [MQTT-4.8.0-1]: one bit test, no decoding.
        if ((frame[0] & 0x0e) === 0x08) return this.protocolError();
        const packet = decodePacket(frame, this.version);
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        // Ill-formed UTF-8 in a topic closes the connection [MQTT-1.5.3-1] (5.0: DISCONNECT 0x81).
        if ((packet as IPublishPacket).topic.includes('\uFFFD') && !publishTopicIsWellFormed(frame)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return this.onPublish(packet as IPublishPacket);
      }
      case PT.PUBACK:
      case PT.PUBREC:
      case PT.PUBREL:
      case PT.PUBCOMP: {
        let id = shortAckId(frame);
        let reasonCode = 0;
        if (id < 0) {
          // 3.1.1 acknowledgements are exactly a packet identifier: anything else is malformed [MQTT-4.8.0-1].
          if (this.version !== 5) return this.protocolError(RC.MALFORMED, 'malformed_packet');
          const packet = decodePacket(frame, this.version);
          // mqtt-packet reports a packet identifier cut short as -1 instead of failing (found by edge.fuzz.spec.ts).
          if (packet === null || packet.messageId === undefined || packet.messageId < 0) {
            return this.protocolError(RC.MALFORMED, 'malformed_packet');
          }
          id = packet.messageId;
          reasonCode = (packet as { reasonCode?: number }).reasonCode ?? 0;
        }
        return this.onAck(type, id, reasonCode);
      }
      case PT.SUBSCRIBE: {
        const packet = decodePacket(frame, this.version) as ISubscribePacket | null;
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        // Ill-formed UTF-8 or U+0000 in a filter: malformed, the connection is closed [MQTT-1.5.3-1/2] (5.0: DISCONNECT 0x81).
        if (packet.subscriptions.some((sub) => suspectString(sub.topic)) && !filtersAreWellFormed(frame, this.version, true)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return this.onSubscribe(packet);
      }
      case PT.UNSUBSCRIBE: {
        const packet = decodePacket(frame, this.version) as IUnsubscribePacket | null;
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        if (packet.unsubscriptions.some(suspectString) && !filtersAreWellFormed(frame, this.version, false)) {
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        return this.onUnsubscribe(packet);
      }
      case PT.PINGREQ:
        // Fixed 2 bytes, no flags [MQTT-3.12]; answered with PINGRESP [MQTT-3.12.4-1].
        if (frame.length !== 2 || frame[0] !== 0xc0) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        this.write(PINGRESP);
        return;
      case PT.DISCONNECT: {
        // 3.1.1 DISCONNECT is two fixed bytes [MQTT-3.14.1-1]: no decoding needed; anything else is malformed.
        if (this.version !== 5) {
          if (frame.length === 2 && frame[0] === 0xe0 && frame[1] === 0) return this.shutdown('client_disconnect', false);
          return this.protocolError(RC.MALFORMED, 'malformed_packet');
        }
        const packet = decodePacket(frame, this.version);
        if (packet === null) return this.protocolError(RC.MALFORMED, 'malformed_packet');
        return this.onDisconnect(packet as IDisconnectPacket);
      }
      case PT.CONNECT:
        // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
        return this.protocolError();
      case PT.AUTH:
        // 5.0 re-authentication (reauth.ts); AUTH does not exist in 3.1.1.
        if (this.version !== 5) return this.protocolError();
        return onAuthPacket(this, this.broker, frame);
      default:
        // Server-to-client packets and the reserved type 0.
        return this.protocolError();
    }
  }

  private onPublish(packet: IPublishPacket): void {
    const broker = this.broker;
    const session = this.session!;
    const principal = this.principal!;
    const v5 = this.version === 5;
    const qos = packet.qos;
    const id = packet.messageId ?? 0;
    // QoS > 0 needs a non-zero packet identifier [MQTT-2.2.1-3].
    if (qos > 0 && id === 0) return this.protocolError();
    const props = packet.properties;
    let topic = packet.topic;
    if (v5 && props !== undefined && props.topicAlias !== undefined) {
      // Topic Alias (§3.3.2.3.4): 0 or above the Topic Alias Maximum we sent is DISCONNECT 0x94 [MQTT-3.3.2-8], [MQTT-3.3.2-9].
      const alias = props.topicAlias;
      if (alias === 0 || alias > broker.limits.maxTopicAliases) return this.protocolError(RC.TOPIC_ALIAS_INVALID);
      if (topic.length === 0) {
        // An empty Topic Name uses the alias' mapping; none on this connection is a protocol error (§3.3.4).
        const mapped = this.aliases?.get(alias);
        if (mapped === undefined) return this.protocolError();
        topic = packet.topic = mapped;
      } else {
        // A Topic Name with an alias sets (or replaces) the mapping (§3.3.2.3.4).
        (this.aliases ??= new Map()).set(alias, topic);
      }
    }
    // No wildcards, not empty, no U+0000 [MQTT-3.3.2-2], [MQTT-4.7.3-1].
    if (topicNameProblem(topic) !== null) return this.protocolError(RC.TOPIC_NAME_INVALID);
    // Beyond maxTopicLength/maxTopicLevels: handled as an unacceptable topic name, for every QoS (QoS 0
    // has no PUBACK to carry 0x90), so the client learns of it: 5.0 DISCONNECT 0x90, 3.1.1 closed.
    if (topicOverLimits(topic, broker.limits)) return this.protocolError(RC.TOPIC_NAME_INVALID);
    broker.counters.messagesIn++;
    // `$signet/…` is the edge's own namespace (token refresh): handled here, never routed or retained.
    if (topic.charCodeAt(0) === 0x24 && topic.startsWith(RESERVED_PREFIX)) {
      const code = onReservedPublish(this, broker, packet);
      if (qos === 1) this.write(encodeAck(PT.PUBACK, id, code, v5));
      else if (qos === 2) {
        // The QoS 2 flow completes normally: its PUBREL finds the id (§4.3.3).
        if (code < 0x80) (session.awaitingRel ??= new Set()).add(id);
        this.write(encodeAck(PT.PUBREC, id, code, v5));
      }
      return;
    }

    let awaiting = session.awaitingRel;
    if (qos === 2 && awaiting !== null && awaiting.has(id)) {
      // A re-sent QoS 2 PUBLISH we already hold: acknowledge again, never deliver it twice (§4.3.3).
      this.write(encodeAck(PT.PUBREC, id, 0, v5));
      return;
    }

    if (!principal.permissions.canPublish(topic)) {
      broker.counters.publishDenied++;
      const hook = broker.hooks.publishDenied;
      if (hook !== undefined) hook({ principal, clientId: session.clientId, topic });
      // Dropped. 5.0 says so with 0x87 [MQTT-3.4.2]; 3.1.1 has no negative acknowledgement, so the
      // usual broker behaviour (Mosquitto) is to acknowledge normally and drop.
      if (qos === 1) this.write(encodeAck(PT.PUBACK, id, RC.NOT_AUTHORIZED, v5));
      else if (qos === 2) {
        if (!v5) {
          if (awaiting === null) awaiting = session.awaitingRel = new Set();
          awaiting.add(id);
        }
        this.write(encodeAck(PT.PUBREC, id, RC.NOT_AUTHORIZED, v5));
      }
      return;
    }

    if (qos === 2) {
      if (awaiting === null) awaiting = session.awaitingRel = new Set();
      // More unreleased QoS 2 messages than our Receive Maximum (5.0 §3.3.4).
      if (awaiting.size >= broker.limits.maxInflight) {
        return this.protocolError(RC.RECEIVE_MAXIMUM_EXCEEDED, 'receive_maximum_exceeded');
      }
      awaiting.add(id);
    }

    const raw = packet.payload;
    let payload = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    // Positional arguments: no event object on the hot path.
    const published = broker.hooks.published;
    if (published !== undefined) published(principal, payload.length);
    if (qos > 0 || packet.retain) payload = ownPayload(payload);
    const expiry = v5 ? props?.messageExpiryInterval : undefined;
    const message: Message = {
      topic,
      payload,
      qos,
      retain: packet.retain,
      properties: v5 ? forwardedProperties(props) : undefined,
      expiresAt: expiry !== undefined ? broker.clock + expiry * 1000 : Infinity,
    };
    // Retained: stored (or cleared by an empty payload) [MQTT-3.3.1-5], [MQTT-3.3.1-10].
    if (packet.retain) broker.storeRetained(session.org, message);
    broker.route(session.org, message, session);

    if (qos === 1) this.write(encodeAck(PT.PUBACK, id, 0, v5));
    else if (qos === 2) this.write(encodeAck(PT.PUBREC, id, 0, v5));
  }

  private onAck(type: number, id: number, reasonCode: number): void {
    const session = this.session!;
    const v5 = this.version === 5;
    const inflight = session.inflight;
    switch (type) {
      case PT.PUBACK: {
        const entry = inflight?.get(id);
        if (entry !== undefined && entry.qos === 1) {
          inflight!.delete(id);
          this.broker.drain(session);
        }
        return;
      }
      case PT.PUBREC: {
        const entry = inflight?.get(id);
        if (entry === undefined || entry.qos !== 2) {
          this.write(encodeAck(PT.PUBREL, id, RC.PACKET_ID_NOT_FOUND, v5));
          return;
        }
        if (v5 && reasonCode >= 0x80) {
          // The receiver refused it: the QoS 2 flow ends here, no PUBREL (5.0 §4.3.3).
          inflight!.delete(id);
          this.broker.drain(session);
          return;
        }
        entry.phase = 1;
        this.write(encodeAck(PT.PUBREL, id, 0, v5));
        return;
      }
      case PT.PUBCOMP: {
        const entry = inflight?.get(id);
        if (entry !== undefined && entry.phase === 1) {
          inflight!.delete(id);
          this.broker.drain(session);
        }
        return;
      }
      case PT.PUBREL: {
        const known = session.awaitingRel?.delete(id) === true;
        if (session.awaitingRel !== null && session.awaitingRel.size === 0) session.awaitingRel = null;
        this.write(encodeAck(PT.PUBCOMP, id, known ? 0 : RC.PACKET_ID_NOT_FOUND, v5));
        return;
      }
    }
  }

  private onSubscribe(packet: ISubscribePacket): void {
    const broker = this.broker;
    const session = this.session!;
    const principal = this.principal!;
    const v5 = this.version === 5;
    const subs = packet.subscriptions;
    // A SUBSCRIBE needs a packet identifier and at least one filter [MQTT-2.2.1-3], [MQTT-3.8.3-3].
    if (!packet.messageId || packet.messageId < 0 || subs.length === 0) return this.protocolError();
    if (v5) {
      // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4]: checked before any filter takes effect.
      for (const sub of subs) if (sub.nl === true && sub.topic.startsWith(SHARE_PREFIX)) return this.protocolError();
    }
    // Subscription Identifier (§3.8.2.1.2): 0, or more than one, is a protocol error; one array for every
    // filter of the packet.
    const subId: unknown = v5 ? packet.properties?.subscriptionIdentifier : undefined;
    if (subId !== undefined && (typeof subId !== 'number' || subId <= 0)) return this.protocolError();
    const ids: readonly number[] | null = subId !== undefined ? [subId] : null;
    // A SUBACK beyond the client's Maximum Packet Size cannot be sent [MQTT-3.1.2-24], and the client would wait
    // for it forever: nothing takes effect and the connection is closed with DISCONNECT 0x95 (4 bytes, always fits).
    if (v5 && ackSize(subs.length) > this.clientMaxPacket) return this.protocolError(RC.PACKET_TOO_LARGE, 'packet_too_large');
    const limit = broker.limits.maxSubscriptionsPerSession;
    const granted: number[] = [];
    let retainedFor: [string, SubscriptionOptions][] | null = null;
    for (const sub of subs) {
      const filter = sub.topic;
      const shared = filter.startsWith(SHARE_PREFIX);
      // 5.0 Shared Subscription: the ShareName must be valid [MQTT-4.8.2-1], [MQTT-4.8.2-2]; the filter after
      // it is what is checked, permitted and matched. 3.1.1 has no shared subscriptions (0x80, unchanged).
      const matched = shared && v5 && shareName(filter) !== null ? innerFilter(filter) : filter;
      let denial: SubscribeDenial | null = null;
      let code: number;
      // Beyond maxTopicLength/maxTopicLevels the filter is refused like a malformed one; the rest of the SUBSCRIBE stands.
      if (topicFilterProblem(matched) !== null || topicOverLimits(filter, broker.limits) || (shared && v5 && matched === filter)) {
        denial = 'invalid_filter';
        code = v5 ? RC.TOPIC_FILTER_INVALID : 0x80;
      } else if (shared && !v5) {
        denial = 'shared_subscription';
        code = 0x80;
      } else if (filter !== RESULT_TOPIC && !principal.permissions.canSubscribe(matched)) {
        // RESULT_TOPIC: every session may hear its own refresh results; nothing else is ever routed there.
        denial = 'not_authorized';
        code = v5 ? RC.NOT_AUTHORIZED : 0x80;
      } else {
        let own = session.subscriptions;
        const existed = own !== null && own.has(filter);
        if (!existed && own !== null && own.size >= limit) {
          denial = 'quota_exceeded';
          code = v5 ? RC.QUOTA_EXCEEDED : 0x80;
        } else {
          const options: SubscriptionOptions = {
            qos: sub.qos,
            nl: v5 && sub.nl === true,
            rap: v5 && sub.rap === true,
            rh: v5 ? (sub.rh ?? 0) : 0,
            ids,
          };
          // A subscription to the same filter replaces the existing one [MQTT-3.8.4-3].
          if (own === null) own = session.subscriptions = new Map();
          own.set(filter, options);
          session.org.subscribe(session, filter, options);
          code = sub.qos;
          // Retained messages are not sent for a new shared subscription (§4.8.2).
          if (!shared && (options.rh === 0 || (options.rh === 1 && !existed))) {
            if (retainedFor === null) retainedFor = [];
            retainedFor.push([filter, options]);
          }
        }
      }
      if (denial !== null) {
        broker.counters.subscribeDenied++;
        const hook = broker.hooks.subscribeDenied;
        if (hook !== undefined) hook({ principal, clientId: session.clientId, filter, reason: denial });
      }
      granted.push(code);
    }
    const suback = encode({ cmd: 'suback', messageId: packet.messageId, granted }, this.version);
    if (suback !== null) this.write(suback);
    if (retainedFor !== null) {
      // Matching retained messages follow the SUBACK, with RETAIN set [MQTT-3.3.1-6], [MQTT-3.3.1-8].
      const retained = session.org.retained;
      const expired: Message[] = [];
      for (const [filter, options] of retainedFor) {
        retained.match(filter, (message) => {
          if (message.expiresAt <= broker.clock) {
            expired.push(message);
            return;
          }
          const qos = (options.qos < message.qos ? options.qos : message.qos) as QoS;
          broker.deliver(session, message, qos, true, options.ids);
        });
      }
      // Expired retained messages are purged when a subscription finds them.
      for (const m of expired) retained.set({ ...m, payload: Buffer.alloc(0) }, Infinity);
    }
  }

  private onUnsubscribe(packet: IUnsubscribePacket): void {
    const session = this.session!;
    const filters = packet.unsubscriptions;
    if (!packet.messageId || packet.messageId < 0 || filters.length === 0) return this.protocolError(); // [MQTT-3.10.3-2]
    // As for SUBACK: an UNSUBACK that cannot fit the client's Maximum Packet Size [MQTT-3.1.2-24] is DISCONNECT 0x95, nothing removed.
    if (this.version === 5 && ackSize(filters.length) > this.clientMaxPacket) return this.protocolError(RC.PACKET_TOO_LARGE, 'packet_too_large');
    const codes: number[] = [];
    for (const filter of filters) {
      const existed = session.subscriptions !== null && session.subscriptions.delete(filter);
      if (existed) session.org.unsubscribe(session, filter);
      codes.push(existed ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
    }
    if (this.version === 5) {
      const buf = encode({ cmd: 'unsuback', messageId: packet.messageId, granted: codes }, 5);
      if (buf !== null) this.write(buf);
    } else {
      // UNSUBACK is sent even when nothing was subscribed [MQTT-3.10.4-5].
      const buf = Buffer.allocUnsafe(4);
      buf[0] = 0xb0;
      buf[1] = 2;
      buf.writeUInt16BE(packet.messageId, 2);
      this.write(buf);
    }
  }

  private onDisconnect(packet: IDisconnectPacket): void {
    const session = this.session!;
    let publishWill = false;
    if (this.version === 5) {
      // 0x04 Disconnect with Will Message: the will is published anyway.
      publishWill = packet.reasonCode === RC.DISCONNECT_WITH_WILL;
      const expiry = packet.properties?.sessionExpiryInterval;
      if (expiry !== undefined) {
        // Cannot turn a session that ends with its connection into a persistent one [MQTT-3.14.2-2].
        if (session.expiryMs === 0 && expiry > 0) return this.protocolError();
        session.expiryMs = Math.min(expiry, this.broker.limits.maxSessionExpirySeconds) * 1000;
      }
    }
    // A normal DISCONNECT discards the will [MQTT-3.14.4-3].
    this.shutdown('client_disconnect', publishWill);
  }

  // ------------------------------------------------------------ outbound

  /** Encodes and queues a PUBLISH. False when it cannot be sent (too large for the client [MQTT-3.1.2-25]). */
  sendPublish(
    message: Message,
    qos: QoS,
    retain: boolean,
    messageId: number,
    dup: boolean,
    ids: readonly number[] | null = null,
  ): boolean {
    if (this.state !== CONNECTED) return false;
    // Subscription Identifiers are 5.0 only; a copy carrying them is per subscriber, not shared.
    const subIds = this.version === 5 ? ids : null;
    if (this.outAliasMax !== 0) return this.sendAliased(message, qos, retain, messageId, dup, subIds);
    const frame =
      qos === 0 && !retain && message.expiresAt === Infinity && subIds === null
        ? qos0Frame(message, this.version)
        : encodePublish(message, qos, retain, messageId, dup, this.version, this.broker.clock, subIds);
    if (frame === null || frame.length > this.clientMaxPacket) return false;
    this.write(frame);
    this.broker.counters.messagesOut++;
    return true;
  }

  /**
   * sendPublish for a 5.0 client that accepts Topic Aliases: encoded per subscriber (the alias is this
   * connection's). A topic with an alias goes with an empty Topic Name; a new topic takes the next alias while
   * there are some left, recorded only once its PUBLISH is actually sent (one too large for the client is
   * tried again without the alias, 3 bytes shorter) so the client never gets an alias it was not told about.
   */
  private sendAliased(message: Message, qos: QoS, retain: boolean, messageId: number, dup: boolean, ids: readonly number[] | null): boolean {
    const aliases = (this.outAliases ??= new Map());
    const clock = this.broker.clock;
    const known = aliases.get(message.topic);
    let frame: Buffer | null;
    if (known !== undefined) {
      frame = encodePublish(message, qos, retain, messageId, dup, 5, clock, ids, known, true);
    } else {
      frame = null;
      if (aliases.size < this.outAliasMax) {
        const alias = aliases.size + 1;
        frame = encodePublish(message, qos, retain, messageId, dup, 5, clock, ids, alias, false);
        if (frame !== null && frame.length <= this.clientMaxPacket) aliases.set(message.topic, alias);
        else frame = null;
      }
      frame ??= encodePublish(message, qos, retain, messageId, dup, 5, clock, ids);
    }
    if (frame === null || frame.length > this.clientMaxPacket) return false;
    this.write(frame);
    this.broker.counters.messagesOut++;
    return true;
  }

  sendPubrel(messageId: number): void {
    this.write(encodeAck(PT.PUBREL, messageId, 0, this.version === 5));
  }
}
