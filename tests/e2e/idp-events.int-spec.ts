import { randomBytes } from 'node:crypto';

import { JWTPayload, KeyLike, SignJWT } from 'jose';
import type { MqttClient } from 'mqtt';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';

import { JwksPeer, newKey, OidcPeer, startOidcProvider, TestKey } from '../../libs/federation/src/testing/idp-peers';
import type { SignetProcess } from '@signet/runtime';

import { connect, serverClosed } from '../support/mqtt';
import { freePort } from '../support/ports';
import { Backend, realBackend, startSignet } from '../support/signet';

/*
 * IdP sign-out reaches MQTT, in the all-in-one on PostgreSQL + Redis with real
 * peers: a Supabase stand-in (JWKS) whose database webhooks Signet receives,
 * oidc-provider as a real OpenID Provider sending a Back-Channel Logout token,
 * and a generic call signed with the standardwebhooks library. In each, a
 * real MQTT 5 client connected with the exchanged token is closed with 0x98.
 */

let backend: Backend;
let signet: SignetProcess;
let supabaseIdp: JwksPeer;
let op: OidcPeer;
let opKey: TestKey;
let api: string;
let wsUrl: string;
let sk: string;
let supabaseKey: KeyLike;
let projectUrl: string;
let supabaseProvider: string;
let oidcProvider: string;
let oidcIssuer: string;
const clients: MqttClient[] = [];


async function call(method: string, path: string, init: { bearer?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  let body: string | undefined = init.raw;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.raw !== undefined) headers['content-type'] = 'application/json';
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(`${api}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

beforeAll(async () => {
  // Supabase stand-in: the project's JWKS with one ES256 key.
  const sbKey = await newKey('ES256', 'sb-1');
  supabaseKey = sbKey.privateKey;
  supabaseIdp = await JwksPeer.start();
  supabaseIdp.sets.set('/auth/v1/.well-known/jwks.json', [sbKey.publicJwk]);
  projectUrl = supabaseIdp.origin;

  backend = await realBackend('idp_events');
  signet = await startSignet(backend, { SIGNET_IDP_FETCH_TIMEOUT_MS: '2000' });
  sk = signet.service!.bootstrap!.apiKey;
  api = `http://127.0.0.1:${signet.ports.http}`;
  wsUrl = `ws://127.0.0.1:${signet.ports.ws}/mqtt`;

  const supabase = await call('POST', '/v1/idp-providers', { bearer: sk, json: { kind: 'supabase', project_url: projectUrl } });
  expect(supabase.status).toBe(201);
  supabaseProvider = supabase.json.id as string;

  // The OP's issuer must be known to Signet, and Signet's logout URL (with the provider id) to the OP: the port is chosen first.
  const opPort = await freePort();
  oidcIssuer = `http://127.0.0.1:${opPort}`;
  const oidc = await call('POST', '/v1/idp-providers', { bearer: sk, json: { kind: 'oidc', issuer: oidcIssuer, audience: 'rp' } });
  expect(oidc.status).toBe(201);
  oidcProvider = oidc.json.id as string;
  opKey = await newKey('RS256', 'op-1');
  op = await startOidcProvider([opKey.privateJwk], opPort, `${api}/v1/idp-events/${oidcProvider}/backchannel-logout`);
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await op?.stop();
  await signet?.close();
  await backend?.cleanup();
  await supabaseIdp?.close();
});

interface Exchanged {
  token_id: string;
  mqtt_credentials: { username: string; password: string };
  refresh_token: string;
}

const nowS = (): number => Math.floor(Date.now() / 1000);

function supabaseToken(sub: string, sessionId: string): Promise<string> {
  const claims: JWTPayload = {
    aud: 'authenticated',
    exp: nowS() + 3600,
    iat: nowS(),
    iss: `${projectUrl}/auth/v1`,
    sub,
    role: 'authenticated',
    app_metadata: { provider: 'email' },
    session_id: sessionId,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'sb-1', typ: 'JWT' }).sign(supabaseKey);
}

/** An ID token as the OP issues them (its key, its issuer, aud = the client id, with the session's sid). */
function oidcIdToken(sub: string, sid: string): Promise<string> {
  return new SignJWT({ iss: oidcIssuer, aud: 'rp', sub, sid, iat: nowS(), exp: nowS() + 600 }).setProtectedHeader({ alg: 'RS256', kid: opKey.kid, typ: 'JWT' }).sign(opKey.privateKey);
}

async function exchange(providerId: string, idToken: string): Promise<Exchanged> {
  const res = await call('POST', '/v1/federation/exchange', { bearer: idToken, json: { provider_id: providerId } });
  expect(res.status).toBe(201);
  return res.json as unknown as Exchanged;
}

async function online(creds: Exchanged): Promise<MqttClient> {
  const client = await connect(wsUrl, { ...creds.mqtt_credentials, protocolVersion: 5 });
  clients.push(client);
  return client;
}

/** Resolves with the DISCONNECT reason once the server closed the client; fails after `ms`. */
async function closedWithin(client: MqttClient, ms = 5000): Promise<{ reasonCode?: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('session was not closed')), ms);
  });
  try {
    return await Promise.race([serverClosed(client), late]);
  } finally {
    clearTimeout(timer);
  }
}

const refresh = (rt: string) => call('POST', '/v1/tokens/refresh', { json: { refresh_token: rt } });

describe('Supabase database webhooks', () => {
  let secret: string;

  beforeAll(async () => {
    const created = await call('POST', `/v1/idp-providers/${supabaseProvider}/events-secret`, { bearer: sk });
    expect(created.status).toBe(201);
    secret = created.json.events_secret as string;
    expect(secret).toMatch(/^whsec_/);
  });

  const webhook = (payload: unknown, bearer = secret) => call('POST', `/v1/idp-events/${supabaseProvider}/supabase`, { bearer, raw: JSON.stringify(payload) });

  it('a deleted auth.sessions row closes that session only; a banned user loses every session', async () => {
    const s1 = await exchange(supabaseProvider, await supabaseToken('user-a', 'sess-a1'));
    const s2 = await exchange(supabaseProvider, await supabaseToken('user-a', 'sess-a2'));
    const other = await exchange(supabaseProvider, await supabaseToken('user-b', 'sess-b1'));
    const [c1, c2, cOther] = [await online(s1), await online(s2), await online(other)];

    const closed1 = closedWithin(c1);
    const sessionDeleted = { type: 'DELETE', table: 'sessions', schema: 'auth', record: null, old_record: { id: 'sess-a1', user_id: 'user-a' } };
    const first = await webhook(sessionDeleted);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ action: 'revoke_session', revoked_tokens: 1, replayed: false });
    expect(await closed1).toEqual({ reasonCode: 0x98 });
    expect(c2.connected).toBe(true);
    // Its refresh token went with it.
    expect((await refresh(s1.refresh_token)).status).toBe(401);

    // The same delivery again: same answer, nothing more.
    expect((await webhook(sessionDeleted)).json).toEqual({ action: 'revoke_session', revoked_tokens: 1, replayed: true });

    const closed2 = closedWithin(c2);
    const banned = {
      type: 'UPDATE',
      table: 'users',
      schema: 'auth',
      record: { id: 'user-a', banned_until: new Date(Date.now() + 86_400_000).toISOString() },
      old_record: { id: 'user-a', banned_until: null },
    };
    expect((await webhook(banned)).json).toEqual({ action: 'revoke_user', revoked_tokens: 1, replayed: false });
    expect(await closed2).toEqual({ reasonCode: 0x98 });
    expect(cOther.connected).toBe(true);

    // Other changes are acknowledged and ignored.
    const signedIn = { type: 'UPDATE', table: 'users', schema: 'auth', record: { id: 'user-b', last_sign_in_at: new Date().toISOString() }, old_record: { id: 'user-b' } };
    expect((await webhook(signedIn)).json).toEqual({ action: 'ignored', revoked_tokens: 0, replayed: false });
    expect(cOther.connected).toBe(true);
  });

  it('a deleted user is revoked; wrong secrets and bad payloads are problems with stable codes', async () => {
    const creds = await exchange(supabaseProvider, await supabaseToken('user-c', 'sess-c1'));
    const client = await online(creds);

    const wrong = await webhook({ type: 'DELETE', table: 'users', schema: 'auth', old_record: { id: 'user-c' } }, 'whsec_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.contentType).toContain('application/problem+json');
    expect(wrong.json.code).toBe('invalid_event_signature');
    // Forms are taken by the back-channel logout route only.
    const form = await call('POST', `/v1/idp-events/${supabaseProvider}/supabase`, { form: { type: 'DELETE' } });
    expect(form.status).toBe(415);
    expect(form.json.code).toBe('unsupported_media_type');
    const none = await call('POST', `/v1/idp-events/${supabaseProvider}/supabase`, { raw: '{}' });
    expect(none.json.code).toBe('invalid_event_signature');
    const bad = await webhook({ hello: 'world' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('invalid_idp_event');
    const unknown = await call('POST', '/v1/idp-events/idp_000000000000000000000000/supabase', { bearer: secret, raw: '{}' });
    expect(unknown.status).toBe(404);
    expect(client.connected).toBe(true);

    const closed = closedWithin(client);
    expect((await webhook({ type: 'DELETE', table: 'users', schema: 'auth', record: null, old_record: { id: 'user-c' } })).json).toMatchObject({ action: 'revoke_user', revoked_tokens: 1 });
    expect(await closed).toEqual({ reasonCode: 0x98 });
  });
});

describe('OIDC Back-Channel Logout 1.0', () => {
  const logoutUrl = () => `/v1/idp-events/${oidcProvider}/backchannel-logout`;
  const logoutToken = (claims: JWTPayload, key: KeyLike = opKey.privateKey, kid = opKey.kid) =>
    new SignJWT({ iss: oidcIssuer, aud: 'rp', iat: nowS(), exp: nowS() + 120, jti: randomBytes(8).toString('hex'), events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' })
      .sign(key);

  it("the OP's logout token for a session closes the MQTT session of the tokens exchanged in it", async () => {
    const inSession = await exchange(oidcProvider, await oidcIdToken('alice', 'op-sid-1'));
    const otherSession = await exchange(oidcProvider, await oidcIdToken('alice', 'op-sid-2'));
    const [c1, c2] = [await online(inSession), await online(otherSession)];
    const closed = closedWithin(c1);
    // oidc-provider signs and POSTs the logout token itself, and fails unless Signet answers 200.
    await op.backchannelLogout('alice', 'op-sid-1');
    expect(await closed).toEqual({ reasonCode: 0x98 });
    expect(c2.connected).toBe(true);
    expect((await refresh(inSession.refresh_token)).status).toBe(401);
  });

  it('validates the logout token per the spec (signature, iss, aud, events, sid/sub, nonce, jti replay)', async () => {
    const creds = await exchange(oidcProvider, await oidcIdToken('bob', 'op-sid-3'));
    const client = await online(creds);
    const attacker = await newKey('RS256', opKey.kid);
    const refused = async (token: string | undefined) => {
      const res = await call('POST', logoutUrl(), { form: token === undefined ? {} : { logout_token: token } });
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.json.code).toBe('invalid_logout_token');
      return res.json.detail as string;
    };
    await refused(undefined);
    await refused(await logoutToken({ sid: 'op-sid-3' }, attacker.privateKey));
    expect(await refused(await logoutToken({ sid: 'op-sid-3', iss: 'http://127.0.0.1:1' }))).toContain('iss');
    expect(await refused(await logoutToken({ sid: 'op-sid-3', aud: 'someone-else' }))).toContain('aud');
    expect(await refused(await logoutToken({ sid: 'op-sid-3', events: { other: {} } }))).toContain('events');
    expect(await refused(await logoutToken({}))).toContain('neither');
    expect(await refused(await logoutToken({ sid: 'op-sid-3', nonce: 'n' }))).toContain('nonce');
    expect(await refused(await logoutToken({ sid: 'op-sid-3', jti: undefined }))).toContain('jti');
    expect(client.connected).toBe(true);

    const closed = closedWithin(client);
    const token = await logoutToken({ sid: 'op-sid-3', jti: 'jti-replay-1' });
    expect((await call('POST', logoutUrl(), { form: { logout_token: token } })).json).toEqual({ action: 'revoke_session', revoked_tokens: 1, replayed: false });
    expect(await closed).toEqual({ reasonCode: 0x98 });
    // The same token again: the same result; another token under the same jti: refused.
    expect((await call('POST', logoutUrl(), { form: { logout_token: token } })).json).toEqual({ action: 'revoke_session', revoked_tokens: 1, replayed: true });
    const reused = await call('POST', logoutUrl(), { form: { logout_token: await logoutToken({ sub: 'bob', jti: 'jti-replay-1' }) } });
    expect(reused.status).toBe(409);
    expect(reused.json.code).toBe('idp_event_id_reused');
  });
});

describe('generic signed revoke call (Standard Webhooks)', () => {
  let secret: string;
  const url = () => `/v1/idp-events/${supabaseProvider}/revoke`;

  beforeAll(async () => {
    secret = (await call('POST', `/v1/idp-providers/${supabaseProvider}/events-secret`, { bearer: sk })).json.events_secret as string;
  });

  const signed = (payload: unknown, id = `msg_${randomBytes(6).toString('hex')}`, at = new Date()) => {
    const body = JSON.stringify(payload);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
    return call('POST', url(), { raw: body, headers });
  };

  it('revokes a session, refreshed tokens included; replays answer the same; bad signatures are refused', async () => {
    const original = await exchange(supabaseProvider, await supabaseToken('user-d', 'sess-d1'));
    const refreshed = await refresh(original.refresh_token);
    expect(refreshed.status).toBe(200);
    const client = await online(refreshed.json as unknown as Exchanged);

    const forged = await call('POST', url(), {
      raw: JSON.stringify({ type: 'session.revoked', sid: 'sess-d1' }),
      headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': String(nowS()), 'webhook-signature': 'v1,AAAA' },
    });
    expect(forged.status).toBe(401);
    expect(forged.json.code).toBe('invalid_event_signature');
    const stale = await signed({ type: 'session.revoked', sid: 'sess-d1' }, 'msg_stale', new Date(Date.now() - 3_600_000));
    expect(stale.status).toBe(401);
    expect(stale.json.code).toBe('event_timestamp_out_of_range');
    const badType = await signed({ type: 'nope' });
    expect(badType.status).toBe(400);
    expect(badType.json.code).toBe('invalid_idp_event');
    expect(client.connected).toBe(true);

    const closed = closedWithin(client);
    const at = new Date();
    const first = await signed({ type: 'session.revoked', sid: 'sess-d1' }, 'msg_fixed_1', at);
    // The exchanged token (still live: a refresh does not end it) and the one refreshed from it.
    expect(first.json).toEqual({ action: 'revoke_session', revoked_tokens: 2, replayed: false });
    expect(await closed).toEqual({ reasonCode: 0x98 });
    expect((await signed({ type: 'session.revoked', sid: 'sess-d1' }, 'msg_fixed_1', at)).json).toEqual({ action: 'revoke_session', revoked_tokens: 2, replayed: true });
    expect((await refresh((refreshed.json as unknown as Exchanged).refresh_token)).status).toBe(401);
  });

  it('revokes a user', async () => {
    const client = await online(await exchange(supabaseProvider, await supabaseToken('user-e', 'sess-e1')));
    const closed = closedWithin(client);
    expect((await signed({ type: 'user.revoked', sub: 'user-e' })).json).toEqual({ action: 'revoke_user', revoked_tokens: 1, replayed: false });
    expect(await closed).toEqual({ reasonCode: 0x98 });
  });
});

describe('what is recorded', () => {
  it('each event acted on is one idp_events row (provider, source, action, IdP user and session, tokens revoked); replays add none', async () => {
    const db = new Client({ connectionString: backend.env['DATABASE_URL'] });
    await db.connect();
    try {
      const { rows } = await db.query<{ provider_id: string; event_id: string; source: string; action: string; idp_subject: string | null; idp_session_id: string | null; revoked_tokens: number }>(
        'SELECT provider_id, event_id, source, action, idp_subject, idp_session_id, revoked_tokens FROM idp_events ORDER BY received_at',
      );
      // The signed session.revoked sent twice under one webhook-id is one row.
      expect(rows.filter((r) => r.event_id === 'msg_fixed_1')).toEqual([
        { provider_id: supabaseProvider, event_id: 'msg_fixed_1', source: 'signed_call', action: 'revoke_session', idp_subject: null, idp_session_id: 'sess-d1', revoked_tokens: 2 },
      ]);
      expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['supabase_webhook', 'backchannel_logout', 'signed_call']));
      expect(rows.filter((r) => r.provider_id === oidcProvider).map((r) => r.action)).toContain('revoke_session');
      expect(rows.find((r) => r.idp_subject === 'user-e')).toMatchObject({ action: 'revoke_user', revoked_tokens: 1 });
    } finally {
      await db.end();
    }
  });
});
