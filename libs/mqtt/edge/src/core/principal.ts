import type { PermissionSet } from '@signet/permissions';

import type { TransportKind } from './types';

/**
 * Who is behind a connection, as established at CONNECT. The edge core never
 * looks inside credentials itself: an {@link ConnectAuthenticator} turns the
 * CONNECT's username/password into a Principal or a refusal.
 */
export interface Principal {
  /** What a revocation names: a token's jti (`tok_…`), an API key id, a certificate's `crt:<sha256>`. */
  credentialId: string;
  kind: 'token' | 'api_key' | 'webhook' | 'ldap' | 'certificate';
  orgId: string;
  /** The user id for tokens, the service name for API keys. */
  subject: string;
  /** When the credential stops being valid, ms since the epoch (Infinity: never). */
  expiresAt: number;
  /** Placeholder-free grants for this very connection. */
  permissions: PermissionSet;
  /**
   * The org's will policy when this credential is revoked or expires:
   * `publish` sends the session's will, `suppress` (the default, also when
   * omitted) drops it. Every other close is unaffected.
   */
  willOnEnd?: WillOnEnd;
}

export type WillOnEnd = 'publish' | 'suppress';

/** The one expiry rule of a credential: it is no longer valid from `expiresAt` on. */
export function credentialExpired(principal: Principal, now: number): boolean {
  return now >= principal.expiresAt;
}

export type AuthRefusal =
  /** Wrong, malformed, forged, expired or revoked credential; username mismatch. 3.1.1: 4, 5.0: 0x86. */
  | 'bad_credentials'
  /** A valid credential that may not connect (e.g. client id not allowed). 3.1.1: 5, 5.0: 0x87. */
  | 'not_authorized'
  /** The edge cannot vouch for the credential right now (bus stale, keys unknown, a dependency down). 3.1.1: 3, 5.0: 0x88. */
  | 'server_unavailable'
  /** A dependency answered that it is shedding load (key verification overloaded): retry later. 3.1.1: 3, 5.0: 0x89. */
  | 'server_busy';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthRefusal; detail?: string };

export interface ConnectRequest {
  username: string | undefined;
  password: Buffer | undefined;
  clientId: string;
  remoteAddress: string;
  protocolVersion: 3 | 4 | 5;
  /** The listener's transport (TLS or not), for authenticators that report it (auth webhooks). */
  transport?: TransportKind;
  /** The certificate the client presented in the TLS handshake, when it presented one. */
  certificate?: ClientCertificate;
}

/**
 * A client certificate as the TLS layer saw it. `verified` is OpenSSL's verdict
 * against the CAs the listener trusts (chain and validity dates); what else it
 * takes to be accepted (which org, revocation, registration) is the
 * authenticator's to decide.
 */
export interface ClientCertificate {
  verified: boolean;
  /** OpenSSL's reason when not verified, e.g. `CERT_HAS_EXPIRED`, `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`. */
  error?: string;
  /** e.g. `CN=device-1, O=Acme`. */
  subject: string;
  commonName?: string;
  /** Subject alternative names as `DNS:…`, `URI:…`, `email:…`, `IP Address:…`. */
  sans: string[];
  /** Upper-case hex, no separators or leading zeros. */
  serial: string;
  /** SHA-256 of the DER, lower-case hex, no separators. */
  fingerprint: string;
  /** ms epoch. */
  notAfter: number;
  /** SHA-256 fingerprints (as above) of the issuers up the verified chain, nearest first. */
  issuerFingerprints: string[];
}

/** The edge's only way to accept a CONNECT. Must not touch a database per call. */
export interface ConnectAuthenticator {
  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult>;
  /**
   * Refresh without reconnecting (5.0 AUTH 0x19, or `$signet/auth/refresh`):
   * verifies a fresh credential for a live session of `current`. `request`
   * carries the CONNECT's username and client id with the new password.
   * Optional: without it the edge calls `authenticate`. Either way the edge
   * then requires the same owner (kind, org, subject) as `current`.
   */
  reauthenticate?(current: Principal, request: ConnectRequest): AuthResult | Promise<AuthResult>;
}

/**
 * Every reason the edge refuses a CONNECT: the authenticator's refusals plus the
 * edge's own checks, each with its CONNACK code (3.1.1 return code, 5.0 reason code).
 */
export type ConnectRefusal =
  | AuthRefusal
  /** Protocol level other than 3, 4 or 5 [MQTT-3.1.2-2]. */
  | 'unsupported_protocol_version'
  /** Empty client id with clean session 0 on 3.1.1 [MQTT-3.1.3-8], too long, or keepalive above the cap on 3.1.1. */
  | 'client_id_rejected'
  /** 5.0 enhanced authentication (Authentication Method) is not offered. */
  | 'bad_authentication_method'
  /** The will topic is outside the credential's publish grants. */
  | 'will_not_authorized'
  /** The client id is live in the org under another user or service. */
  | 'client_id_in_use'
  /** The remote address already has maxConnectionsPerIp sockets open. */
  | 'connection_limit'
  /** The remote address made more CONNECTs than connectRatePerIp / connectBurstPerIp allow (before authentication). */
  | 'ip_rate_exceeded'
  /** The authenticated user or service made more CONNECTs than connectRatePerIdentity / connectBurstPerIdentity allow. */
  | 'identity_rate_exceeded'
  /** A malformed CONNECT, or a CONNECT that breaks a protocol rule. */
  | 'protocol_error';

export const CONNACK_CODES: Readonly<Record<ConnectRefusal, { v4: number; v5: number }>> = Object.freeze({
  bad_credentials: { v4: 4, v5: 0x86 },
  not_authorized: { v4: 5, v5: 0x87 },
  server_unavailable: { v4: 3, v5: 0x88 },
  // 5.0 0x89 Server busy; 3.1.1 has only 3 Server unavailable.
  server_busy: { v4: 3, v5: 0x89 },
  unsupported_protocol_version: { v4: 1, v5: 0x84 },
  client_id_rejected: { v4: 2, v5: 0x85 },
  bad_authentication_method: { v4: 5, v5: 0x8c },
  will_not_authorized: { v4: 5, v5: 0x87 },
  client_id_in_use: { v4: 5, v5: 0x87 },
  // 5.0 0x97 Quota exceeded; 3.1.1 has nothing closer than 3 Server unavailable.
  connection_limit: { v4: 3, v5: 0x97 },
  // 5.0 0x9F Connection rate exceeded; 3.1.1 again only has 3 Server unavailable.
  ip_rate_exceeded: { v4: 3, v5: 0x9f },
  identity_rate_exceeded: { v4: 3, v5: 0x9f },
  // 3.1.1 has no CONNACK for a protocol error: the connection is closed without one [MQTT-3.1.4-1].
  protocol_error: { v4: -1, v5: 0x82 },
});
