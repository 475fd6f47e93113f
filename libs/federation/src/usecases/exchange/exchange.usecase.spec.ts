import { DEFAULT_PERMISSIONS } from '@signet/permissions';

import { apiKeyCaller, federationFixture } from '../../testing/federation-fixture';
import { nowSeconds, sign } from '../../testing/idp-peers';

/*
 * The exchange's policies over in-memory repositories: what a user is
 * granted (the provider's base permissions plus what their mapped roles
 * add, nothing for unmapped ones), what a backend's key may hand out, which
 * providers answer, and the TTL caps.
 */

const ORG = 'org_aaaaaaaaaaaa';
const OTHER_ORG = 'org_bbbbbbbbbbbb';
const SECRET = 'a-shared-secret-of-at-least-thirty-two-chars';
const ISSUER = 'https://issuer.example';

const idToken = (claims: Record<string, unknown> = {}) =>
  sign({ iss: ISSUER, aud: 'mqtt', sub: 'user-1', iat: nowSeconds(), exp: nowSeconds() + 600, ...claims }, new TextEncoder().encode(SECRET), { alg: 'HS256' });

async function setup(mapping: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const f = federationFixture(env);
  f.issuance.orgs.set(ORG, { id: ORG, maxTokenTtlSeconds: null });
  const provider = await f.createProvider.execute({
    orgId: ORG,
    kind: 'jwt',
    settings: { issuer: ISSUER, audience: 'mqtt', algorithms: ['HS256'], shared_secret: SECRET, ...mapping },
  });
  return { ...f, providerId: provider.id };
}

const ROLES = {
  role_claim: 'app.roles',
  permissions: { publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#'] },
  role_permissions: { operator: { publish: ['plant/{user_id}/cmd'], subscribe: ['plant/#'] }, viewer: { subscribe: ['dash/#'] } },
};

describe('ExchangeUseCase: permissions', () => {
  it('grants the base permissions plus what each mapped role adds; unmapped roles add nothing', async () => {
    const f = await setup(ROLES);
    await f.exchange.execute({ providerId: f.providerId, idToken: await idToken({ app: { roles: ['operator', 'admin'] } }) });
    expect(f.issuance.issued[0]).toMatchObject({
      orgId: ORG,
      userId: 'user-1',
      clientId: null,
      permissions: { publish: ['users/{user_id}/#', 'plant/{user_id}/cmd'], subscribe: ['users/{user_id}/#', 'plant/#'] },
    });
  });

  it('grants only the base without a role claim, and the core default without permissions', async () => {
    const f = await setup(ROLES);
    await f.exchange.execute({ providerId: f.providerId, idToken: await idToken() });
    expect(f.issuance.issued[0].permissions).toEqual({ publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#'] });

    const plain = await setup();
    await plain.exchange.execute({ providerId: plain.providerId, idToken: await idToken({ roles: ['operator'] }) });
    expect(plain.issuance.issued[0].permissions).toEqual({ ...DEFAULT_PERMISSIONS });
  });

  it('grants nothing but mapped roles with permissions {}', async () => {
    const f = await setup({ ...ROLES, permissions: {} });
    await f.exchange.execute({ providerId: f.providerId, idToken: await idToken({ app: { roles: 'viewer' } }) });
    expect(f.issuance.issued[0].permissions).toEqual({ publish: [], subscribe: ['dash/#'] });
  });

  it("lets a backend's restricted key hand out only what its MQTT scopes cover", async () => {
    const f = await setup(ROLES);
    const token = await idToken({ app: { roles: ['operator'] } });
    const narrow = apiKeyCaller(ORG, { type: 'restricted', scopes: ['tokens:write', 'mqtt:publish:users/{user_id}/#', 'mqtt:subscribe:users/{user_id}/#'] });
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token, caller: narrow })).rejects.toMatchObject({
      status: 403,
      code: 'privilege_escalation',
    });
    expect(f.issuance.issued).toHaveLength(0);

    const wide = apiKeyCaller(ORG, { type: 'restricted', scopes: ['tokens:write', 'mqtt:publish:#', 'mqtt:subscribe:#'] });
    await f.exchange.execute({ providerId: f.providerId, idToken: token, caller: wide });
    await f.exchange.execute({ providerId: f.providerId, idToken: token, caller: apiKeyCaller(ORG) });
    expect(f.issuance.issued).toHaveLength(2);
  });

  it('reads the user id from user_id_claim and refuses one that is not a valid user id', async () => {
    const f = await setup({ user_id_claim: 'uid' });
    await f.exchange.execute({ providerId: f.providerId, idToken: await idToken({ uid: 'device-42' }) });
    expect(f.issuance.issued[0].userId).toBe('device-42');
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: await idToken({ uid: 'a/b' }) })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_user_claim',
    });
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: await idToken() })).rejects.toMatchObject({ code: 'invalid_user_claim' });
  });
});

describe('ExchangeUseCase: which providers answer', () => {
  it('answers unknown_provider alike for a missing, disabled or foreign provider, and a deleted org', async () => {
    const f = await setup();
    const token = await idToken();
    const refused = { status: 401, code: 'unknown_provider' };
    await expect(f.exchange.execute({ providerId: 'idp_000000000000000000000000', idToken: token })).rejects.toMatchObject(refused);
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token, caller: apiKeyCaller(OTHER_ORG) })).rejects.toMatchObject(refused);
    await f.updateProvider.execute({ orgId: ORG, id: f.providerId, enabled: false, settings: {} });
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token })).rejects.toMatchObject(refused);
    await f.updateProvider.execute({ orgId: ORG, id: f.providerId, enabled: true, settings: {} });
    await f.exchange.execute({ providerId: f.providerId, idToken: token });
    f.issuance.orgs.clear();
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token })).rejects.toMatchObject(refused);
  });

  it('verifies with the secret as updated: a verifier is kept per provider version', async () => {
    const f = await setup();
    const token = await idToken();
    await f.exchange.execute({ providerId: f.providerId, idToken: token });
    await f.updateProvider.execute({ orgId: ORG, id: f.providerId, settings: { shared_secret: 'another-shared-secret-that-is-long-enough-00' } });
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token })).rejects.toMatchObject({ code: 'invalid_signature' });
  });
});

describe('ExchangeUseCase: lifetime', () => {
  it("takes the default TTL, lowered to the org's cap; refuses a request above the cap", async () => {
    const f = await setup({}, { SIGNET_TOKEN_DEFAULT_TTL: '3600' });
    const token = await idToken();
    await f.exchange.execute({ providerId: f.providerId, idToken: token });
    f.issuance.orgs.set(ORG, { id: ORG, maxTokenTtlSeconds: 600 });
    await f.exchange.execute({ providerId: f.providerId, idToken: token });
    await f.exchange.execute({ providerId: f.providerId, idToken: token, ttlSeconds: 60, clientId: 'dev-1' });
    expect(f.issuance.issued.map((r) => [r.ttlSeconds, r.clientId])).toEqual([
      [3600, null],
      [600, null],
      [60, 'dev-1'],
    ]);
    await expect(f.exchange.execute({ providerId: f.providerId, idToken: token, ttlSeconds: 601 })).rejects.toMatchObject({ status: 400, code: 'ttl_too_long' });
  });
});
