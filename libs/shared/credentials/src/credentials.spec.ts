import { SignJWT } from 'jose';

import { tamper } from '@signet/testing';

import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  AccessTokenClaims,
  AccessTokenError,
  AccessTokenVerifier,
  generateSigningKey,
  importPublicJwk,
  importSigningKey,
  signAccessToken,
} from './access-token';
import { newApiKey, parseApiKey } from './api-key';
import { mqttGrants, scopeHeld, scopeProblem } from './api-key-scopes';
import { isOrgId, newOrgId, parseMqttUsername, userIdProblem } from './ids';

describe('ids', () => {
  it('makes org ids of the documented shape', () => {
    const id = newOrgId();
    expect(id).toMatch(/^org_[0-9a-z]{12}$/);
    expect(isOrgId(id)).toBe(true);
  });

  it.each([
    ['user_xyz', null],
    ['alice@example.com', null],
    ['', 'must be a non-empty string'],
    ['a/b', "must not contain '/', '+' or '#'"],
    ['a+', "must not contain '/', '+' or '#'"],
    ['#', "must not contain '/', '+' or '#'"],
    ['$SYS', "must not start with '$'"],
    ['a b', 'must not contain spaces or control characters'],
    ['x'.repeat(129), 'must be at most 128 characters'],
    ['a\ud800b', 'must be well-formed Unicode'],
    ['🙂', null],
  ])('user id %j → %s', (id, problem) => expect(userIdProblem(id)).toBe(problem));

  it('parses usernames on the last @', () => {
    expect(parseMqttUsername('alice@example.com@org_k7xm4pqr2n5t')).toEqual({
      subject: 'alice@example.com',
      orgId: 'org_k7xm4pqr2n5t',
    });
    expect(parseMqttUsername('alice')).toBeNull();
    expect(parseMqttUsername('alice@org_BAD')).toBeNull();
  });
});

describe('API keys', () => {
  it('round-trips and fits bcrypt', () => {
    const { key, keyId } = newApiKey('secret');
    expect(key).toMatch(/^sk_[0-9a-z]{12}_/);
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(72);
    expect(parseApiKey(key)).toEqual({ type: 'secret', keyId, key });
    expect(parseApiKey(newApiKey('restricted').key)?.type).toBe('restricted');
  });

  it('refuses a typo through the checksum', () => {
    const { key } = newApiKey('secret');
    const i = 20;
    const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(parseApiKey(typo)).toBeNull();
    expect(parseApiKey('sk_nope')).toBeNull();
  });
});

describe('access tokens', () => {
  const now = Math.floor(Date.now() / 1000);
  const claims: AccessTokenClaims = {
    sub: 'alice',
    org: 'org_aaaaaaaaaaaa',
    jti: 'tok_000000000000000000000001',
    iat: now,
    exp: now + 60,
    perm: { pub: ['users/{user_id}/#'], sub: ['users/{user_id}/#'] },
  };

  it.each(['ES256', 'RS256'] as const)('signs and verifies with the %s key found by kid', async (alg) => {
    const key = await generateSigningKey(alg);
    expect(key.publicJwk).toMatchObject({ alg, kty: alg === 'ES256' ? 'EC' : 'RSA', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    const publicKey = await importPublicJwk(key.publicJwk);
    const verifier = new AccessTokenVerifier((kid) => (kid === key.kid ? publicKey : undefined));
    const token = await signAccessToken(claims, key);
    expect(token.startsWith('tkn_')).toBe(true);
    expect(JSON.parse(Buffer.from(token.slice(4).split('.')[0], 'base64url').toString())).toMatchObject({ alg, kid: key.kid });
    await expect(verifier.verify(token)).resolves.toEqual(claims);
  });

  it('verifies tokens of both algorithms side by side, and refuses a header whose algorithm does not fit the key', async () => {
    const ec = await generateSigningKey('ES256');
    const rsa = await generateSigningKey('RS256');
    const keys = new Map([
      [ec.kid, await importPublicJwk(ec.publicJwk)],
      [rsa.kid, await importPublicJwk(rsa.publicJwk)],
    ]);
    const verifier = new AccessTokenVerifier((kid) => keys.get(kid));
    await expect(verifier.verify(await signAccessToken(claims, ec))).resolves.toEqual(claims);
    await expect(verifier.verify(await signAccessToken(claims, rsa))).resolves.toEqual(claims);
    // Signed by the RSA key but naming the EC key's kid: the EC key is never used for RS256.
    const mixed = await signAccessToken(claims, { ...rsa, kid: ec.kid });
    await expect(verifier.verify(mixed)).rejects.toBeInstanceOf(AccessTokenError);
  });

  it('imports a stored key without `alg` (before it was recorded) as RS256, and refuses an algorithm that is not ours', async () => {
    const rsa = await generateSigningKey('RS256');
    const { alg: _alg, ...legacy } = rsa.privateJwk;
    expect((await importSigningKey(legacy)).alg).toBe('RS256');
    await expect(importPublicJwk({ ...rsa.publicJwk, alg: 'PS256' })).rejects.toThrow(/unsupported algorithm/);
    await expect(importPublicJwk({ ...rsa.publicJwk, alg: 'ES256' })).rejects.toThrow(/unsupported algorithm/);
  });

  it('keeps the will claim for publish only; another value reads as the default (suppress)', async () => {
    const key = await generateSigningKey();
    const publicKey = await importPublicJwk(key.publicJwk);
    const verifier = new AccessTokenVerifier(() => publicKey);
    await expect(verifier.verify(await signAccessToken({ ...claims, will: 'publish' }, key))).resolves.toEqual({ ...claims, will: 'publish' });
    const odd = { ...claims, will: 'sometimes' } as unknown as AccessTokenClaims;
    await expect(verifier.verify(await signAccessToken(odd, key))).resolves.toEqual(claims);
  });

  it.each([
    ['expired', async (t: string) => t, now + 3600, 'expired'],
    ['forged signature', async (t: string) => tamper(t, 4), undefined, 'invalid_signature'],
    ['not a token', async () => 'tkn_garbage', undefined, 'malformed'],
    ['wrong prefix', async (t: string) => t.slice(4), undefined, 'malformed'],
  ])('refuses %s', async (_label, mutate, at, code) => {
    const key = await generateSigningKey();
    const publicKey = await importPublicJwk(key.publicJwk);
    const verifier = new AccessTokenVerifier(() => publicKey);
    const token = await mutate(await signAccessToken(claims, key));
    await expect(verifier.verify(token, at)).rejects.toMatchObject({ code });
  });

  describe('claims beyond the signature (RFC 8725), signed with the real key', () => {
    // Signed with Signet's key but not by signAccessToken: what a misused key or another issuer sharing it could produce.
    const forge = async (key: Awaited<ReturnType<typeof generateSigningKey>>, payload: Record<string, unknown>) =>
      'tkn_' +
      (await new SignJWT({ org: claims.org, perm: claims.perm, sub: claims.sub, jti: claims.jti, ...payload })
        .setProtectedHeader({ alg: key.alg, typ: 'tkn+jwt', kid: key.kid })
        .sign(key.privateKey));
    const good = { iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, iat: now, exp: now + 60 };

    it.each([
      ['no issuer', { iss: undefined }],
      ['another issuer', { iss: 'https://evil.example' }],
      ['no audience', { aud: undefined }],
      ['another audience', { aud: 'signet:api' }],
      ['iat an hour ahead', { iat: now + 3600, exp: now + 7200 }],
      ['exp a century away', { exp: now + 100 * 365 * 86400 }],
      ['exp before iat', { iat: now + 3, exp: now + 2 }],
    ])('refuses %s', async (_label, override) => {
      const key = await generateSigningKey();
      const publicKey = await importPublicJwk(key.publicJwk);
      const verifier = new AccessTokenVerifier(() => publicKey, { maxLifetimeSeconds: 86400 });
      await expect(verifier.verify(await forge(key, { ...good, ...override }), now)).rejects.toMatchObject({ code: 'invalid_claims' });
      // The same forge with the good claims passes: the override alone is what is refused.
      await expect(verifier.verify(await forge(key, good), now)).resolves.toMatchObject({ jti: claims.jti });
    });

    it('forgives an iat within the clock tolerance and a lifetime equal to the maximum', async () => {
      const key = await generateSigningKey();
      const publicKey = await importPublicJwk(key.publicJwk);
      const verifier = new AccessTokenVerifier(() => publicKey, { clockToleranceSeconds: 5, maxLifetimeSeconds: 86400 });
      await expect(verifier.verify(await forge(key, { ...good, iat: now + 5, exp: now + 65 }), now)).resolves.toMatchObject({ iat: now + 5 });
      await expect(verifier.verify(await forge(key, { ...good, exp: now + 86400 }), now)).resolves.toMatchObject({ exp: now + 86400 });
      await expect(verifier.verify(await forge(key, { ...good, iat: now + 6, exp: now + 66 }), now)).rejects.toMatchObject({ code: 'invalid_claims' });
    });
  });

  it('refuses a token signed by an unknown key', async () => {
    const key = await generateSigningKey();
    const verifier = new AccessTokenVerifier(() => undefined);
    await expect(verifier.verify(await signAccessToken(claims, key))).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('refuses alg=none and HS256 confusion', async () => {
    const key = await generateSigningKey();
    const publicKey = await importPublicJwk(key.publicJwk);
    const verifier = new AccessTokenVerifier(() => publicKey);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = b64({ ...claims });
    const none = `tkn_${b64({ alg: 'none', kid: key.kid, typ: 'tkn+jwt' })}.${payload}.x`;
    await expect(verifier.verify(none)).rejects.toMatchObject({ code: 'malformed' });
    const hs = `tkn_${b64({ alg: 'HS256', kid: key.kid, typ: 'tkn+jwt' })}.${payload}.AAAA`;
    await expect(verifier.verify(hs)).rejects.toMatchObject({ code: 'malformed' });
  });
});

describe('API key scopes', () => {
  const org = 'org_aaaaaaaaaaaa';
  it('knows the plain scopes and MQTT filter scopes', () => {
    for (const s of ['tokens:write', 'tokens:read', 'tokens:revoke', 'keys:read', 'keys:write', 'org:read', 'org:write', 'mqtt:publish:events/#', 'mqtt:subscribe:cmd/{client_id}/+']) {
      expect(scopeProblem(s)).toBeNull();
    }
    for (const s of ['tokens:delete', 'admin', '', 'mqtt:publish:', 'mqtt:publish:a/#/b', 'mqtt:subscribe:{nope}/x', 'mqtt:connect:x', 42]) {
      expect(scopeProblem(s)).not.toBeNull();
    }
  });
  it('splits MQTT grants by direction', () => {
    expect(mqttGrants(['tokens:read', 'mqtt:publish:a/#', 'mqtt:subscribe:b/+'])).toEqual({ publish: ['a/#'], subscribe: ['b/+'] });
  });
  it('says whether a scope is held, filters by coverage', () => {
    const held = ['tokens:write', 'mqtt:publish:events/#'];
    expect(scopeHeld(held, 'tokens:write', org)).toBe(true);
    expect(scopeHeld(held, 'tokens:revoke', org)).toBe(true);
    expect(scopeHeld(held, 'tokens:read', org)).toBe(false);
    expect(scopeHeld(held, 'mqtt:publish:events/x/+', org)).toBe(true);
    expect(scopeHeld(held, 'mqtt:publish:#', org)).toBe(false);
    expect(scopeHeld(held, 'mqtt:subscribe:events/#', org)).toBe(false);
  });
});
