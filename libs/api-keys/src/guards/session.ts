import { invalidApiKey } from '../errors';
import type { ApiKeyPrincipal } from '../principal';

/** Roles of a signed-in person (an account): owner and admin manage the org, viewer reads. */
export type SessionRole = 'owner' | 'admin' | 'viewer';

/** A verified sign-in session (an OAuth access token of the authorization server), not an API key. */
export interface SessionPrincipal {
  accountId: string;
  orgId: string;
  username: string;
  role: SessionRole;
  clientId: string;
  /** ms epoch. */
  expiresAt: number;
}

/** Checks a bearer that is not an API key; provided by the accounts feature when it is composed in. */
export interface SessionVerifier {
  /** The session of an access token, or null when the token is unknown, expired or revoked. */
  verify(token: string): Promise<SessionPrincipal | null>;
}

export const SESSION_VERIFIER = Symbol('SESSION_VERIFIER');

/** The session of an access token, or 401 `invalid_api_key` (the code every bearer refusal has). */
export async function verifiedSession(verifier: SessionVerifier, token: string): Promise<SessionPrincipal> {
  const session = await verifier.verify(token);
  if (!session) throw invalidApiKey('the session is unknown, expired or revoked; sign in again (`signet login`)');
  return session;
}

/**
 * A session acts on the routes for its org like a secret key (full org access), but without the usage
 * counters of a key; a viewer reads only (the guard refuses other methods).
 */
export function sessionAsCaller(session: SessionPrincipal): ApiKeyPrincipal {
  return {
    keyId: `session:${session.accountId}`,
    orgId: session.orgId,
    name: session.username,
    type: 'secret',
    scopes: [],
    ipAllowlist: [],
    expiresAt: null,
    willOnRevoke: 'suppress',
  };
}
