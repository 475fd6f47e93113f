import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IDisconnectPacket } from 'mqtt-packet';
import { topicNameProblem } from '@signet/permissions';
import { connackV4, encode } from '../codec/codec';
import { CONNECT_UNSUPPORTED_VERSION, ConnectProblem, decodeConnect } from '../codec/connect-decoder';
import type { StoredSession } from '@signet/mqtt-cluster';
import type { SessionRequest } from '../core/broker';
import { RC } from '../core/codes';
import { topicOverLimits } from '../core/limits';
import { ownPayload } from '../core/message';
import { CONNACK_CODES, type AuthResult, type ConnectRefusal, type Principal } from '../core/principal';
import { AUTH_METHOD } from './auth';
import { claimClientId } from './claim';
import type { Peer } from './peer';

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

/** The first packet, a CONNECT (the dispatcher checked its type [MQTT-3.1.0-1]): checks, then authentication. */
export function onConnect(peer: Peer, frame: Buffer): void {
  // One walk and one decoder for every CONNECT: refused here for what the protocol refuses, before any limit.
  const packet = decodeConnect(frame);
  if (packet instanceof ConnectProblem) {
    const level = packet.level;
    if (packet.reasonCode === CONNECT_UNSUPPORTED_VERSION) {
      // Unsupported protocol level: CONNACK 0x01 in 3.1.1 format, then close [MQTT-3.1.2-2]; not MQTT: just close.
      if (level >= 0) {
        const connack = encode({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4);
        if (connack !== null) peer.write(connack);
      }
      refused(peer, 'unsupported_protocol_version', level, undefined);
      return;
    }
    peer.protocolVersion = level as 3 | 4 | 5;
    // Even a refusal must fit the client's Maximum Packet Size [MQTT-3.1.2-24].
    if (packet.maximumPacketSize !== undefined) peer.clientMaxPacket = packet.maximumPacketSize;
    // 5.0: CONNACK 0x81 (malformed: flags, layout, UTF-8 [MQTT-1.5.4-1/2], properties §2.2.2.2) or 0x82
    // (a property rule, §3.1.2.11); 3.1.1 is closed without CONNACK [MQTT-3.1.4-1], §4.13.
    refuse(peer, 'protocol_error', packet.detail, packet.reasonCode);
    return;
  }
  const level = packet.protocolVersion as 3 | 4 | 5;
  peer.protocolVersion = level;
  const v5 = level === 5;
  const broker = peer.broker;
  const limits = broker.limits;
  const props = packet.properties;
  // Known from here on (0 was refused by the decoder), so that even a refusing CONNACK is not sent to a client
  // that cannot take it [MQTT-3.1.2-24].
  if (props?.maximumPacketSize !== undefined) peer.clientMaxPacket = props.maximumPacketSize;

  // Edge limits come first: nothing below reaches the authenticator (5.0 §3.2.2.2: the CONNACK reason
  // codes 0x97, 0x9F, 0x85, 0x86 are the server's to choose for these).
  if (broker.connectionsFrom(peer.remoteKey) > limits.maxConnectionsPerIp) {
    refuse(peer, 'connection_limit', peer.remoteKey);
    return;
  }
  const now = broker.tick();
  if (broker.ipConnectRate.take(peer.remoteKey, now) !== 0) {
    refuse(peer, 'ip_rate_exceeded', peer.remoteKey);
    return;
  }
  if ((packet.username?.length ?? 0) > limits.maxUsernameLength) {
    refuse(peer, 'bad_credentials', 'username too long');
    return;
  }
  const secret = packet.password ?? (v5 ? props?.authenticationData : undefined);
  if (secret !== undefined && secret.length > limits.maxPasswordLength) {
    refuse(peer, 'bad_credentials', 'password too long');
    return;
  }

  if (v5 && props !== undefined) {
    // The only Authentication Method is `signet-token` (the token itself, for re-authentication
    // with AUTH later [MQTT-4.12.1-1]); any other is refused with 0x8C.
    if (props.authenticationMethod !== undefined) {
      if (props.authenticationMethod !== AUTH_METHOD) {
        refuse(peer, 'bad_authentication_method', props.authenticationMethod);
        return;
      }
      peer.authMethod = AUTH_METHOD;
    }
    if (props.receiveMaximum !== undefined) peer.sendQuota = Math.min(limits.maxInflight, props.receiveMaximum);
    if (props.topicAliasMaximum !== undefined) peer.outAliasMax = Math.min(props.topicAliasMaximum, limits.maxTopicAliases);
  }

  const will = packet.will;
  if (will !== undefined) {
    // The will topic must be a valid topic name (Will QoS 3 is refused by the decoder).
    if (topicNameProblem(will.topic) !== null) {
      refuse(peer, 'protocol_error', 'invalid will topic', RC.TOPIC_NAME_INVALID);
      return;
    }
    // A will beyond the topic limits is refused like an invalid one (5.0 0x90; 3.1.1 closes, no CONNACK fits).
    if (topicOverLimits(will.topic, limits)) {
      refuse(peer, 'protocol_error', 'will topic beyond limits', RC.TOPIC_NAME_INVALID);
      return;
    }
  }

  const clean = packet.clean !== false;
  let clientId = packet.clientId ?? '';
  let clientIdAssigned = false;
  if (clientId.length > limits.maxClientIdLength) {
    refuse(peer, 'client_id_rejected', 'client id too long');
    return;
  }
  if (clientId.length === 0) {
    // 3.1.1: a zero-length client id requires clean session [MQTT-3.1.3-7/8]; 5.0: the server assigns one [MQTT-3.1.3-6].
    if (!v5 && !clean) {
      refuse(peer, 'client_id_rejected', 'empty client id requires clean session');
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
  const bounded = maxKeepAlive < 65535;
  if (!v5 && bounded && keepalive === 0 && !tooShort) {
    // 3.1.1 cannot be told a keepalive and many clients send 0: not refused, but a silent
    // connection is closed after 1.5 × the maximum, as if it had asked for it.
    keepalive = maxKeepAlive;
  } else if (tooShort || (bounded && (keepalive === 0 || keepalive > maxKeepAlive))) {
    if (!v5) {
      // 3.1.1 cannot be told another keepalive: refuse, as Mosquitto does.
      refuse(peer, 'client_id_rejected', tooShort ? 'keepalive below the edge minimum' : 'keepalive above the edge maximum');
      return;
    }
    keepalive = tooShort ? minKeepAlive : maxKeepAlive;
    serverKeepAlive = keepalive; // [MQTT-3.2.2-21]
  }
  peer.keepaliveMs = keepalive * 1500;

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
    peer.will = will;
    peer.willDelayMs = v5 ? (will.properties?.willDelayInterval ?? 0) * 1000 : 0;
  }

  const context: ConnectContext = {
    request: { clientId, cleanStart: clean, expiryMs: expirySeconds * 1000 },
    clientIdAssigned,
    expiryGranted,
    serverKeepAlive,
    trimConnack: false,
  };
  if (v5 && peer.clientMaxPacket !== Infinity) {
    // The CONNACK must fit the client's Maximum Packet Size [MQTT-3.1.2-24]: its size does not depend on the
    // outcome, so it is measured before any authentication work. Too large: the optional properties go; still
    // too large: refused with 0x95 (a 5-byte CONNACK, itself sent only if it fits).
    if (encodeConnack(peer, context, false).length > peer.clientMaxPacket) {
      context.trimConnack = true;
      if (encodeConnack(peer, context, false).length > peer.clientMaxPacket) {
        refuse(peer, 'protocol_error', 'CONNACK larger than the client Maximum Packet Size', RC.PACKET_TOO_LARGE);
        return;
      }
    }
  }

  peer.startAuthentication();
  peer.authUsername = packet.username;
  // With method `signet-token` the token may come as Authentication Data instead of the password.
  const authData = peer.authMethod !== undefined ? props?.authenticationData : undefined;
  let result: AuthResult | Promise<AuthResult>;
  try {
    result = broker.authenticator.authenticate({
      username: packet.username,
      password: packet.password ?? (authData !== undefined ? Buffer.from(authData) : undefined),
      clientId,
      remoteAddress: peer.remoteAddress(),
      protocolVersion: level,
      transport: peer.transport,
      certificate: peer.clientCertificate(),
    });
  } catch (err) {
    broker.logger.error({ err }, 'mqtt edge authenticator threw');
    result = { ok: false, reason: 'server_unavailable' };
  }
  if (result instanceof Promise || typeof (result as { then?: unknown }).then === 'function') {
    Promise.resolve(result).then(
      (r) => onAuthenticated(peer, context, r),
      (err: unknown) => {
        broker.logger.error({ err }, 'mqtt edge authenticator failed');
        onAuthenticated(peer, context, { ok: false, reason: 'server_unavailable' });
      },
    );
  } else {
    onAuthenticated(peer, context, result as AuthResult);
  }
}

function onAuthenticated(peer: Peer, context: ConnectContext, result: AuthResult): void {
  // Closed (or timed out) meanwhile: nothing was registered, nothing to undo.
  if (!peer.isAuthenticating()) return;
  try {
    completeConnect(peer, context, result);
  } catch (err) {
    peer.broker.logger.error({ err }, 'mqtt edge failed completing CONNECT');
    if (peer.isConnected()) peer.kick(RC.UNSPECIFIED, 'internal_error', true);
    else peer.shutdown('internal_error', false);
  }
}

function completeConnect(peer: Peer, context: ConnectContext, result: AuthResult): void {
  const broker = peer.broker;
  if (!result.ok) {
    refuse(peer, result.reason, result.detail);
    return;
  }
  const principal = result.principal;
  const refusal = broker.sessions.credentialRefusal(principal, broker.tick());
  if (refusal !== null) {
    refuse(peer, 'bad_credentials', refusal);
    return;
  }
  // Per identity only once it is proven: a stranger sending someone's username cannot spend their CONNECTs.
  if (broker.identityConnectRate.take(`${principal.kind}:${principal.orgId}:${principal.subject}`, broker.clock) !== 0) {
    refuse(peer, 'identity_rate_exceeded', principal.subject);
    return;
  }
  if (broker.closing) {
    refuse(peer, 'server_unavailable', 'edge shutting down');
    return;
  }
  // A will is a publish the client makes in advance: checked now, so a denied will refuses the
  // CONNECT (0x87 / 5) rather than being silently dropped later (Mosquitto does the same).
  if (peer.will !== null && !principal.permissions.canPublish(peer.will.topic)) {
    refuse(peer, 'will_not_authorized', peer.will.topic);
    return;
  }
  if (broker.cluster !== null) {
    // In a cluster the client id is claimed across edges first (handlers/claim.ts).
    const accept = (epoch: number, stored: StoredSession | undefined): void => acceptSession(peer, context, principal, epoch, stored);
    claimClientId(peer, principal, context.request, accept, (reason, detail) => refuse(peer, reason, detail));
    return;
  }
  acceptSession(peer, context, principal, 0);
}

/**
 * The CONNECT is accepted: the session attached (`epoch`: the cluster's claim, 0 without one; `stored`: the
 * stored session it read), CONNACK, resume.
 */
function acceptSession(peer: Peer, context: ConnectContext, principal: Principal, epoch: number, stored?: StoredSession): void {
  const broker = peer.broker;
  const attached = broker.sessions.attach(peer, principal, context.request, epoch, stored);
  if (attached === null) {
    if (epoch !== 0) broker.cluster!.bus.release(principal.orgId, context.request.clientId, epoch);
    refuse(peer, 'client_id_in_use', context.request.clientId);
    return;
  }
  peer.accept(principal, attached.session);
  if (peer.protocolVersion === 5) {
    peer.write(encodeConnack(peer, context, attached.sessionPresent));
  } else {
    peer.write(connackV4(0, attached.sessionPresent));
  }
  broker.counters.connectsAccepted++;
  const hook = broker.hooks.connectAccepted;
  if (hook !== undefined) {
    hook({
      principal,
      clientId: context.request.clientId,
      protocolVersion: peer.protocolVersion,
      transport: peer.transport,
      sessionPresent: attached.sessionPresent,
    });
  }
  broker.delivery.resume(attached.session, peer);
  peer.replayPending();
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
function encodeConnack(peer: Peer, context: ConnectContext, sessionPresent: boolean): Buffer {
  const limits = peer.broker.limits;
  const properties: NonNullable<IConnackPacket['properties']> = { maximumPacketSize: limits.maxPacketSize };
  if (!context.trimConnack) {
    // Stored per subscription and sent with each message it matches [MQTT-3.3.4-3].
    properties.subscriptionIdentifiersAvailable = true;
    // $share/<ShareName>/<filter> (§4.8.2).
    properties.sharedSubscriptionAvailable = true;
    // Client→server aliases 1…maxTopicAliases (§3.2.2.3.8); server→client ones: encodeAliased.
    if (limits.maxTopicAliases > 0) properties.topicAliasMaximum = limits.maxTopicAliases;
  }
  if (limits.maxInflight < 65535) properties.receiveMaximum = limits.maxInflight;
  if (context.clientIdAssigned) properties.assignedClientIdentifier = context.request.clientId;
  if (context.expiryGranted !== undefined) properties.sessionExpiryInterval = context.expiryGranted;
  if (context.serverKeepAlive !== undefined) properties.serverKeepAlive = context.serverKeepAlive;
  // The CONNACK names the Authentication Method the CONNECT used (5.0 §3.2.2.3.17).
  if (peer.authMethod !== undefined) properties.authenticationMethod = peer.authMethod;
  const buf = encode({ cmd: 'connack', reasonCode: 0, sessionPresent, properties }, 5);
  if (buf === null) throw new Error('cannot encode CONNACK');
  return buf;
}

/** Refuses the CONNECT with its CONNACK code (when the protocol has one), then closes. */
function refuse(peer: Peer, reason: ConnectRefusal, detail: string | undefined, v5Code?: number): void {
  const version = peer.protocolVersion;
  const v5 = version === 5;
  const code = v5 ? (v5Code ?? CONNACK_CODES[reason].v5) : CONNACK_CODES[reason].v4;
  if (code >= 0) {
    // sessionPresent is 0 on a refusal [MQTT-3.2.2-4]/[MQTT-3.2.2-6].
    const packet: IConnackPacket = v5
      ? { cmd: 'connack', reasonCode: code, sessionPresent: false }
      : { cmd: 'connack', returnCode: code, sessionPresent: false };
    const buf = encode(packet, version);
    // Not even a refusal goes to a client whose Maximum Packet Size is below it (5 bytes) [MQTT-3.1.2-24].
    if (buf !== null && buf.length <= peer.clientMaxPacket) peer.write(buf);
  }
  refused(peer, reason, version, detail);
}

function refused(peer: Peer, reason: ConnectRefusal, protocolVersion: number, detail: string | undefined): void {
  const broker = peer.broker;
  broker.counters.connectsRefused++;
  broker.logger.debug({ reason, detail, transport: peer.transport }, 'mqtt connect refused');
  const hook = broker.hooks.connectRefused;
  if (hook !== undefined) hook({ reason, detail, protocolVersion, transport: peer.transport });
  peer.shutdown('protocol_error', false);
}

/** DISCONNECT from the client (5.0; a 3.1.1 DISCONNECT needs no decoding, see the dispatcher). */
export function onDisconnect(peer: Peer, packet: IDisconnectPacket): void {
  const session = peer.session!;
  let publishWill = false;
  if (peer.protocolVersion === 5) {
    // 0x04 Disconnect with Will Message: the will is published anyway.
    publishWill = packet.reasonCode === RC.DISCONNECT_WITH_WILL;
    const expiry = packet.properties?.sessionExpiryInterval;
    if (expiry !== undefined) {
      // Cannot turn a session that ends with its connection into a persistent one [MQTT-3.14.2-2].
      if (session.expiryMs === 0 && expiry > 0) return peer.protocolError();
      session.expiryMs = Math.min(expiry, peer.broker.limits.maxSessionExpirySeconds) * 1000;
    }
  }
  // A normal DISCONNECT discards the will [MQTT-3.14.4-3].
  peer.shutdown('client_disconnect', publishWill);
}
