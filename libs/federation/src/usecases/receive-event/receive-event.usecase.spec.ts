import { ProblemError } from '@signet/http';

import { standardWebhookSignature } from '../../events/signatures';
import { federationFixture } from '../../testing/federation-fixture';
import { nowSeconds, sign } from '../../testing/idp-peers';

/*
 * IdP events over in-memory repositories: what the exchange remembers of the
 * IdP session, how each kind of event is authenticated and read, and how
 * replays and reused ids answer. The SQL that revokes is in the int-specs.
 */

const ORG = 'org_aaaaaaaaaaaa';
const SECRET = 'a-shared-secret-of-at-least-thirty-two-chars';
const ISSUER = 'https://issuer.example';
const key = new TextEncoder().encode(SECRET);
const LOGOUT_EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };

async function setup() {
  const f = federationFixture();
  f.issuance.orgs.set(ORG, { id: ORG, maxTokenTtlSeconds: null });
  const provider = await f.createProvider.execute({ orgId: ORG, kind: 'jwt', settings: { issuer: ISSUER, audience: 'mqtt', algorithms: ['HS256'], shared_secret: SECRET } });
  return { ...f, providerId: provider.id };
}

const logoutToken = (claims: Record<string, unknown> = {}) =>
  sign({ iss: ISSUER, aud: 'mqtt', iat: nowSeconds(), exp: nowSeconds() + 120, jti: `j${Math.random()}`, events: LOGOUT_EVENT, sid: 'sid-1', ...claims }, key, { alg: 'HS256', typ: 'logout+jwt' });

async function problem(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ProblemError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error('no problem raised');
}

describe('the exchange remembers the IdP origin', () => {
  it('records the provider, the session (sid or Supabase session_id) and the sub', async () => {
    const f = await setup();
    const token = await sign({ iss: ISSUER, aud: 'mqtt', sub: 'user-1', sid: 'sid-9', iat: nowSeconds(), exp: nowSeconds() + 600 }, key, { alg: 'HS256' });
    await f.exchange.execute({ providerId: f.providerId, idToken: token, clientId: undefined, ttlSeconds: undefined });
    const supabaseStyle = await sign({ iss: ISSUER, aud: 'mqtt', sub: 'user-2', session_id: 'sess-2', iat: nowSeconds(), exp: nowSeconds() + 600 }, key, { alg: 'HS256' });
    await f.exchange.execute({ providerId: f.providerId, idToken: supabaseStyle, clientId: undefined, ttlSeconds: undefined });
    expect(f.issuance.issued.map((r) => r.idp)).toEqual([
      { providerId: f.providerId, sessionId: 'sid-9', subject: 'user-1' },
      { providerId: f.providerId, sessionId: 'sess-2', subject: 'user-2' },
    ]);
  });
});

describe('ReceiveIdpEventUseCase', () => {
  it('back-channel logout: a valid token revokes its session, or its user without a sid; the same token again is a replay', async () => {
    const f = await setup();
    const token = await logoutToken({ sub: 'user-1', jti: 'jti-1' });
    expect(await f.receiveEvent.execute({ source: 'backchannel_logout', providerId: f.providerId, logoutToken: token })).toEqual({ action: 'revoke_session', revokedTokens: 1, replayed: false });
    expect(await f.receiveEvent.execute({ source: 'backchannel_logout', providerId: f.providerId, logoutToken: token })).toEqual({ action: 'revoke_session', revokedTokens: 1, replayed: true });
    expect(await problem(f.receiveEvent.execute({ source: 'backchannel_logout', providerId: f.providerId, logoutToken: await logoutToken({ jti: 'jti-1', sid: 'sid-2' }) }))).toEqual({ status: 409, code: 'idp_event_id_reused' });
    const userOnly = await logoutToken({ sid: undefined, sub: 'user-1' });
    expect(await f.receiveEvent.execute({ source: 'backchannel_logout', providerId: f.providerId, logoutToken: userOnly })).toMatchObject({ action: 'revoke_user' });
    expect([...f.events.applied.values()].map((a) => a.event.action)).toEqual([
      { kind: 'revoke_session', sessionId: 'sid-1', subject: 'user-1' },
      { kind: 'revoke_user', subject: 'user-1' },
    ]);
  });

  it.each([
    ['no events claim', { events: undefined }],
    ['a nonce', { nonce: 'n' }],
    ['neither sid nor sub', { sid: undefined }],
    ['no jti', { jti: undefined }],
    ['another audience', { aud: 'other' }],
    ['another issuer', { iss: 'https://elsewhere.example' }],
    ['no exp', { exp: undefined }],
  ])('back-channel logout: a token with %s is 400 invalid_logout_token', async (_name, claims) => {
    const f = await setup();
    const token = await logoutToken(claims);
    expect(await problem(f.receiveEvent.execute({ source: 'backchannel_logout', providerId: f.providerId, logoutToken: token }))).toEqual({ status: 400, code: 'invalid_logout_token' });
    expect(f.events.applied.size).toBe(0);
  });

  it('signed call: needs the events secret; a valid signature applies the event', async () => {
    const f = await setup();
    const body = Buffer.from(JSON.stringify({ type: 'user.revoked', sub: 'user-1' }));
    const ts = String(nowSeconds());
    const call = (secret: string) =>
      f.receiveEvent.execute({ source: 'signed_call', providerId: f.providerId, rawBody: body, body: JSON.parse(body.toString()), webhookId: 'msg_1', webhookTimestamp: ts, webhookSignature: standardWebhookSignature(secret, 'msg_1', ts, body) });
    expect(await problem(call('whsec_AAAA'))).toEqual({ status: 401, code: 'invalid_event_signature' });
    const secret = await f.createEventsSecret.execute({ orgId: ORG, providerId: f.providerId });
    expect(await problem(call('whsec_AAAA'))).toEqual({ status: 401, code: 'invalid_event_signature' });
    expect(await call(secret)).toEqual({ action: 'revoke_user', revokedTokens: 1, replayed: false });
    // Sealed for this provider only.
    expect(f.events.secrets.get(f.providerId)).not.toContain(secret);
  });

  it('answers 404 for an unknown provider, before reading anything', async () => {
    const f = await setup();
    expect(await problem(f.receiveEvent.execute({ source: 'backchannel_logout', providerId: 'idp_000000000000000000000000', logoutToken: 'x' }))).toEqual({ status: 404, code: 'idp_provider_not_found' });
    expect(await problem(f.receiveEvent.execute({ source: 'backchannel_logout', providerId: 'not-an-id', logoutToken: 'x' }))).toEqual({ status: 404, code: 'idp_provider_not_found' });
  });
});
