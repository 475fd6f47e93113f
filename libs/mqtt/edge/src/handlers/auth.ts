/**
 * Refresh without reconnecting: a live session takes a fresh credential
 * (its expiry and permissions) without a new CONNECT.
 *
 * - MQTT 5.0: re-authentication (§4.12.1) with authentication method
 *   `signet-token`: the client connected with that method (the token in
 *   Authentication Data or as password) and sends AUTH 0x19 with the new
 *   token in Authentication Data. Success: AUTH 0x00. Failure: DISCONNECT 0x87
 *   (invalid token, another user, revoked) or 0x82 (another method than
 *   CONNECT's [MQTT-4.12.1-1]) and the connection is closed [MQTT-4.12.1-2].
 * - Any version and transport: PUBLISH the new token to `$signet/auth/refresh`;
 *   the result is a JSON PUBLISH on `$signet/auth/result`, sent to this
 *   session alone when it subscribes to that topic (always allowed). A failed
 *   refresh here leaves the connection and its current credential as they were.
 *
 * The new credential must belong to the same owner (kind, org, subject). Live
 * subscriptions the new permissions no longer cover are removed, and only those.
 */
import type { IAuthPacket, IPublishPacket } from 'mqtt-packet';
import { decodePacket, encode } from '../codec/codec';
import { RC } from '../core/codes';
import type { AuthResult, ConnectRequest, Principal } from '../core/principal';
import { REFRESH_TOPIC, RESULT_TOPIC } from '../core/reserved';
import type { Peer } from './peer';

/** The 5.0 Authentication Method of a `tkn_` credential, at CONNECT and in AUTH. */
export const AUTH_METHOD = 'signet-token';

/** 5.0 AUTH reason codes (§3.15.2.1). */
const AUTH_SUCCESS = 0x00;
const AUTH_REAUTHENTICATE = 0x19;

type Outcome = { ok: true; principal: Principal } | { ok: false; error: string };

/** Same user (or service) of the same org, with the same kind of credential. */
export function sameOwner(a: Principal, b: Principal): boolean {
  return a.kind === b.kind && a.orgId === b.orgId && a.subject === b.subject;
}

/**
 * Verifies `password` for the connection's current owner through the
 * authenticator (its `reauthenticate` when it has one, else `authenticate`
 * with the CONNECT's username and client id), then applies it. Calls `done`
 * once, possibly synchronously.
 */
function reauthenticate(peer: Peer, password: Buffer, done: (outcome: Outcome) => void): void {
  const broker = peer.broker;
  const current = peer.principal!;
  const session = peer.session!;
  // Held to maxPasswordLength like a CONNECT's password: an oversized token never reaches the authenticator.
  if (password.length > broker.limits.maxPasswordLength) {
    done({ ok: false, error: 'credential too long' });
    return;
  }
  const request: ConnectRequest = {
    username: peer.authUsername,
    password,
    clientId: session.clientId,
    remoteAddress: peer.remoteAddress(),
    protocolVersion: peer.protocolVersion,
  };
  const finish = (result: AuthResult): void => {
    // Closed, or taken over, while the verification ran: nothing to apply.
    if (!peer.isConnected() || peer.session !== session) return;
    done(apply(peer, current, result));
  };
  const authenticator = broker.authenticator;
  let result: AuthResult | Promise<AuthResult>;
  try {
    result =
      authenticator.reauthenticate !== undefined
        ? authenticator.reauthenticate(current, request)
        : authenticator.authenticate(request);
  } catch (err) {
    broker.logger.error({ err }, 'mqtt edge authenticator threw on re-authentication');
    result = { ok: false, reason: 'server_unavailable' };
  }
  if (result instanceof Promise) {
    result.then(finish, (err: unknown) => {
      broker.logger.error({ err }, 'mqtt edge re-authentication failed');
      finish({ ok: false, reason: 'server_unavailable' });
    });
  } else {
    finish(result);
  }
}

function apply(peer: Peer, current: Principal, result: AuthResult): Outcome {
  if (!result.ok) return { ok: false, error: result.detail ?? result.reason };
  const next = result.principal;
  if (!sameOwner(current, next)) return { ok: false, error: 'credential belongs to another user' };
  const broker = peer.broker;
  const refusal = broker.sessions.credentialRefusal(next, broker.now());
  if (refusal !== null) return { ok: false, error: refusal };
  broker.sessions.reauthenticated(peer.session!, next);
  peer.adoptPrincipal(next);
  broker.logger.debug({ clientId: peer.session!.clientId, credentialId: next.credentialId }, 'mqtt session re-authenticated');
  return { ok: true, principal: next };
}

/** 5.0 AUTH from a connected client [MQTT-4.12.1-1]. */
export function onAuthPacket(peer: Peer, frame: Buffer): void {
  const packet = decodePacket(frame, 5) as IAuthPacket | null;
  if (packet === null) return peer.kick(RC.MALFORMED, 'protocol_error', true);
  // AUTH is only valid when CONNECT named an Authentication Method (§4.12); re-authentication
  // starts with 0x19, and must name the method used at CONNECT [MQTT-4.12.1-1].
  if (peer.authMethod === undefined || packet.reasonCode !== AUTH_REAUTHENTICATE) {
    return peer.kick(RC.PROTOCOL_ERROR, 'protocol_error', true);
  }
  // Another method than CONNECT's breaks [MQTT-4.12.1-1]: a protocol error (0x8C exists only in CONNACK, §3.14.2.1).
  if (packet.properties?.authenticationMethod !== peer.authMethod) return peer.kick(RC.PROTOCOL_ERROR, 'protocol_error', true);
  const data = packet.properties?.authenticationData;
  if (data === undefined || data.length === 0) return peer.kick(RC.NOT_AUTHORIZED, 'protocol_error', true);
  reauthenticate(peer, Buffer.from(data), (outcome) => {
    if (!outcome.ok) {
      // A failed re-authentication closes the connection with a DISCONNECT reason [MQTT-4.12.1-2].
      peer.kick(RC.NOT_AUTHORIZED, 'revoked', true);
      return;
    }
    // Success ends the exchange with AUTH 0x00 carrying the same method (§4.12.1).
    const ack = encode({ cmd: 'auth', reasonCode: AUTH_SUCCESS, properties: { authenticationMethod: peer.authMethod } }, 5);
    if (ack !== null) peer.write(ack);
  });
}

/**
 * A PUBLISH to a `$signet/` topic: handled here, never routed or retained.
 * Returns the reason code to acknowledge a QoS 1/2 PUBLISH with.
 */
export function onReservedPublish(peer: Peer, packet: IPublishPacket): number {
  if (packet.topic !== REFRESH_TOPIC) return RC.NOT_AUTHORIZED;
  const raw = packet.payload;
  const token = Buffer.isBuffer(raw) ? Buffer.from(raw) : Buffer.from(raw, 'utf8');
  const correlation = packet.properties?.correlationData;
  reauthenticate(peer, token, (outcome) => sendResult(peer, outcome, correlation));
  return RC.SUCCESS;
}

function sendResult(peer: Peer, outcome: Outcome, correlationData: Buffer | undefined): void {
  const broker = peer.broker;
  const session = peer.session!;
  const options = session.subscriptions?.get(RESULT_TOPIC);
  // Only to this session, and only when it asked for results.
  if (options === undefined) return;
  const body = outcome.ok
    ? {
        ok: true,
        credential_id: outcome.principal.credentialId,
        // null: a credential that does not expire (API keys).
        expires_at: Number.isFinite(outcome.principal.expiresAt) ? new Date(outcome.principal.expiresAt).toISOString() : null,
      }
    : { ok: false, error: outcome.error };
  broker.delivery.deliver(
    session,
    {
      topic: RESULT_TOPIC,
      payload: Buffer.from(JSON.stringify(body)),
      qos: options.qos,
      retain: false,
      properties: correlationData !== undefined ? { correlationData, contentType: 'application/json' } : { contentType: 'application/json' },
      expiresAt: Infinity,
    },
    options.qos,
    false,
    options.ids,
  );
}
