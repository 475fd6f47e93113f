import type { IdpProviderKind } from '@signet/persistence';

import type { ProviderInput } from '../providers/settings';
import { secretContext } from '../providers/provider';
import { newKey } from '../testing/idp-peers';
import { federationFixture } from '../testing/federation-fixture';

/*
 * Provider settings policy, through the provider use cases over in-memory
 * repositories: IdP URLs are https (plain http only for loopback), algorithms
 * are pinned and must fit the key material, each kind takes its own fields,
 * and an update is validated as a whole after merging.
 */

const ORG = 'org_aaaaaaaaaaaa';
const SECRET = 'a-shared-secret-of-at-least-thirty-two-chars';

const create = (kind: IdpProviderKind, settings: ProviderInput, f = federationFixture()) => f.createProvider.execute({ orgId: ORG, kind, settings });

const refusedFor = (field: string) => ({ status: 400, code: 'invalid_provider_settings', extensions: { field } });

describe('provider settings: URLs', () => {
  it.each(['https://abc.supabase.co', 'http://127.0.0.1:54321', 'http://localhost:54321', 'http://[::1]:54321'])('accepts %s', async (url) => {
    await expect(create('supabase', { project_url: url })).resolves.toMatchObject({ settings: { project_url: url } });
  });

  it.each([
    ['supabase', { project_url: 'http://supabase.example.com' }, 'project_url'],
    ['oidc', { issuer: 'http://10.0.0.1/' }, 'issuer'],
    ['clerk', { issuer: 'file:///etc/passwd' }, 'issuer'],
    ['jwt', { issuer: 'https://i.example', audience: 'a', algorithms: ['RS256'], jwks_uri: 'https://user:pw@i.example/jwks' }, 'jwks_uri'],
    ['auth0', { domain: 'http://tenant.example.com', audience: 'a' }, 'domain'],
    ['auth0', { domain: 'https://tenant.example.com/path', audience: 'a' }, 'domain'],
  ] as const)('refuses %s %j (field %s)', async (kind, settings, field) => {
    await expect(create(kind, settings as ProviderInput)).rejects.toMatchObject(refusedFor(field));
  });

  it('normalises what is compared exactly later: trailing slashes, the Auth0 domain', async () => {
    await expect(create('supabase', { project_url: 'https://abc.supabase.co/' })).resolves.toMatchObject({ settings: { project_url: 'https://abc.supabase.co' } });
    await expect(create('clerk', { issuer: 'https://clerk.example.com/' })).resolves.toMatchObject({ settings: { issuer: 'https://clerk.example.com' } });
    await expect(create('oidc', { issuer: 'https://op.example.com/' })).resolves.toMatchObject({ settings: { issuer: 'https://op.example.com/' } });
    await expect(create('auth0', { domain: 'Tenant.EU.Auth0.com', audience: 'a' })).resolves.toMatchObject({ settings: { domain: 'tenant.eu.auth0.com' } });
  });
});

describe('provider settings: pinned algorithms', () => {
  const jwt = (settings: ProviderInput) => create('jwt', { issuer: 'https://i.example', audience: 'mqtt', ...settings });

  it('accepts HMAC with a shared secret, asymmetric with a JWKS URL or a PEM key that fits', async () => {
    await expect(jwt({ algorithms: ['HS256', 'HS256'], shared_secret: SECRET })).resolves.toMatchObject({ settings: { algorithms: ['HS256'] } });
    await expect(jwt({ algorithms: ['RS256', 'ES256'], jwks_uri: 'https://i.example/jwks' })).resolves.toMatchObject({ settings: { algorithms: ['RS256', 'ES256'] } });
    const key = await newKey('ES256', 'k1');
    await expect(jwt({ algorithms: ['ES256'], public_key: key.publicPem })).resolves.toMatchObject({ settings: { public_key: key.publicPem } });
  });

  it.each([
    [{ algorithms: ['none'], jwks_uri: 'https://i.example/jwks' }, 'algorithms'],
    [{ algorithms: [], jwks_uri: 'https://i.example/jwks' }, 'algorithms'],
    [{ algorithms: ['HS256'], jwks_uri: 'https://i.example/jwks' }, 'algorithms'],
    [{ algorithms: ['RS256'], shared_secret: SECRET }, 'algorithms'],
    [{ algorithms: ['HS256', 'RS256'], shared_secret: SECRET }, 'algorithms'],
    [{ algorithms: ['RS256'] }, 'jwks_uri'],
    [{ algorithms: ['RS256'], jwks_uri: 'https://i.example/jwks', shared_secret: SECRET }, 'jwks_uri'],
    [{ algorithms: ['HS256'], shared_secret: 'too-short' }, 'shared_secret'],
    [{ algorithms: ['RS256'], public_key: 'not a key' }, 'public_key'],
  ])('refuses a jwt provider with %j (field %s)', async (settings, field) => {
    await expect(jwt(settings)).rejects.toMatchObject(refusedFor(field));
  });

  it('allows oidc providers asymmetric algorithms only', async () => {
    await expect(create('oidc', { issuer: 'https://op.example.com', algorithms: ['HS256'] })).rejects.toMatchObject(refusedFor('algorithms'));
    await expect(create('oidc', { issuer: 'https://op.example.com', algorithms: ['PS256'] })).resolves.toMatchObject({ settings: { algorithms: ['PS256'] } });
  });
});

describe('provider settings: fields per kind, secrets, grants', () => {
  it.each([
    ['supabase', {}, 'project_url'],
    ['auth0', { domain: 'x.auth0.com' }, 'audience'],
    ['clerk', { issuer: 'https://clerk.example.com', project_id: 'abc-123' }, 'project_id'],
    ['firebase', { project_id: 'Bad Id' }, 'project_id'],
    ['firebase', { project_id: 'abc-123', shared_secret: SECRET }, 'shared_secret'],
    ['supabase', { project_url: 'https://x.supabase.co', jwt_secret: 'short' }, 'jwt_secret'],
    ['firebase', { project_id: 'abc-123', role_permissions: { admin: ['x'] } }, 'role_permissions.admin'],
  ] as const)('refuses %s %j (field %s)', async (kind, settings, field) => {
    await expect(create(kind, settings as ProviderInput)).rejects.toMatchObject(refusedFor(field));
  });

  it('refuses grants that are not valid topic filter templates', async () => {
    await expect(create('firebase', { project_id: 'abc-123', permissions: { publish: ['a/#/b'] } })).rejects.toMatchObject({ status: 400, code: 'invalid_permission' });
  });

  it('stores the secret sealed for this provider only, and never in the settings', async () => {
    const f = federationFixture();
    const created = await create('supabase', { project_url: 'https://x.supabase.co', jwt_secret: SECRET }, f);
    expect(created.secretCiphertext).not.toBeNull();
    expect(created.secretCiphertext).not.toContain(SECRET);
    expect(JSON.stringify(created.settings)).not.toContain(SECRET);
    expect(f.secretBox.open(created.secretCiphertext!, secretContext(created.id))).toBe(SECRET);
    expect(() => f.secretBox.open(created.secretCiphertext!, secretContext('idp_000000000000000000000000'))).toThrow();
  });
});

describe('provider updates, lists and deletes', () => {
  it('merges the change, removes a field given as null, keeps and re-seals the secret, and validates the whole', async () => {
    const f = federationFixture();
    const created = await create('supabase', { project_url: 'https://x.supabase.co', jwt_secret: SECRET, audience: 'custom' }, f);
    const updated = await f.updateProvider.execute({ orgId: ORG, id: created.id, name: 'app', settings: { audience: null, role_claim: 'app_metadata.roles' } });
    expect(updated).toMatchObject({ name: 'app', enabled: true, settings: { project_url: 'https://x.supabase.co', user_id_claim: 'sub', role_claim: 'app_metadata.roles' } });
    expect(updated.settings.audience).toBeUndefined();
    expect(updated.secretCiphertext).not.toBe(created.secretCiphertext);
    expect(f.secretBox.open(updated.secretCiphertext!, secretContext(created.id))).toBe(SECRET);
    await expect(f.updateProvider.execute({ orgId: ORG, id: created.id, settings: { project_url: null } })).rejects.toMatchObject(refusedFor('project_url'));
    const removed = await f.updateProvider.execute({ orgId: ORG, id: created.id, settings: { jwt_secret: null } });
    expect(removed.secretCiphertext).toBeNull();
  });

  it("answers 404 idp_provider_not_found for another org's provider, as for a missing one", async () => {
    const f = federationFixture();
    const created = await create('firebase', { project_id: 'abc-123' }, f);
    const notFound = { status: 404, code: 'idp_provider_not_found' };
    await expect(f.getProvider.execute({ orgId: 'org_bbbbbbbbbbbb', id: created.id })).rejects.toMatchObject(notFound);
    await expect(f.updateProvider.execute({ orgId: 'org_bbbbbbbbbbbb', id: created.id, enabled: false, settings: {} })).rejects.toMatchObject(notFound);
    await expect(f.deleteProvider.execute({ orgId: 'org_bbbbbbbbbbbb', id: created.id })).rejects.toMatchObject(notFound);
    await expect(f.getProvider.execute({ orgId: ORG, id: created.id })).resolves.toMatchObject({ id: created.id, enabled: true });
  });

  it("lists the org's providers oldest first; a deleted one is gone", async () => {
    const f = federationFixture();
    const a = await create('firebase', { project_id: 'abc-123' }, f);
    const b = await create('oidc', { issuer: 'https://op.example.com' }, f);
    await f.createProvider.execute({ orgId: 'org_bbbbbbbbbbbb', kind: 'firebase', settings: { project_id: 'other-1' } });
    expect((await f.listProviders.execute({ orgId: ORG })).map((p) => [p.id, p.name])).toEqual([
      [a.id, 'firebase'],
      [b.id, 'oidc'],
    ]);
    await f.deleteProvider.execute({ orgId: ORG, id: a.id });
    expect((await f.listProviders.execute({ orgId: ORG })).map((p) => p.id)).toEqual([b.id]);
    await expect(f.getProvider.execute({ orgId: ORG, id: a.id })).rejects.toMatchObject({ code: 'idp_provider_not_found' });
  });
});
