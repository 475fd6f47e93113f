import { AccessTokenClaims, AccessTokenVerifier, importPublicJwk } from '@signet/credentials';
import { ProblemError } from '@signet/http';

import { InMemoryTokenRepository, principal, TEST_TOKENS_OPTIONS, testIssuer, testSigningKey } from '../../testing';
import { IssueTokenUseCase } from './issue.usecase';

async function claimsOf(password: string): Promise<AccessTokenClaims> {
  const key = await importPublicJwk((await testSigningKey()).publicJwk);
  return new AccessTokenVerifier(() => key).verify(password);
}

async function setup(options = TEST_TOKENS_OPTIONS) {
  const tokens = new InMemoryTokenRepository();
  tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: null });
  tokens.addOrg({ id: 'org_capped', maxTokenTtlSeconds: 600 });
  tokens.addOrg({ id: 'org_publish', maxTokenTtlSeconds: null }, 'publish');
  const issue = new IssueTokenUseCase(options, await testIssuer(tokens, options));
  return { tokens, issue };
}

describe('IssueTokenUseCase (through the repository fakes)', () => {
  it('issues the default permissions and TTL in one statement (no transaction), storing metadata and the refresh token hash', async () => {
    const { tokens, issue } = await setup();
    const credentials = await issue.execute({ caller: principal('org_a'), userId: 'user_1' });
    expect(tokens.transactions).toBe(0);
    expect(credentials.username).toBe('user_1@org_a');
    const claims = await claimsOf(credentials.password);
    expect(claims).toMatchObject({ sub: 'user_1', org: 'org_a', jti: credentials.tokenId, perm: { pub: ['users/{user_id}/#'], sub: ['users/{user_id}/#'] } });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims).not.toHaveProperty('will');
    expect(tokens.token(credentials.tokenId)).toMatchObject({ userId: 'user_1', clientId: null, revokedAt: null });
    const [refresh] = tokens.refreshTokens();
    expect(refresh).toMatchObject({ tokenId: credentials.tokenId, usedAt: null });
    expect(refresh.tokenHash).not.toContain(credentials.refreshToken);
    expect(refresh.expiresAt.getTime() - Date.now()).toBeGreaterThan(30 * 86_400_000 - 5_000);
  });

  it('caps the TTL: the default is lowered to the org maximum, a request above it is refused', async () => {
    const { issue } = await setup();
    const lowered = await issue.execute({ caller: principal('org_capped'), userId: 'u' });
    const claims = await claimsOf(lowered.password);
    expect(claims.exp - claims.iat).toBe(600);
    await expect(issue.execute({ caller: principal('org_capped'), userId: 'u', ttlSeconds: 601 })).rejects.toMatchObject({
      code: 'ttl_too_long',
      extensions: { max_ttl_seconds: 600 },
    });
  });

  it('caps by SIGNET_TOKEN_MAX_TTL where the org sets no maximum', async () => {
    const { issue } = await setup({ ...TEST_TOKENS_OPTIONS, maxTtlSeconds: 7200 });
    await expect(issue.execute({ caller: principal('org_a'), userId: 'u', ttlSeconds: 7201 })).rejects.toMatchObject({ code: 'ttl_too_long' });
    const claims = await claimsOf((await issue.execute({ caller: principal('org_a'), userId: 'u', ttlSeconds: 7200 })).password);
    expect(claims.exp - claims.iat).toBe(7200);
  });

  it("refuses a restricted key more MQTT rights than its scopes hold, storing nothing", async () => {
    const { tokens, issue } = await setup();
    const caller = principal('org_a', { type: 'restricted', scopes: ['tokens:write', 'mqtt:publish:users/#'] });
    await expect(issue.execute({ caller, userId: 'u' })).rejects.toMatchObject({ status: 403, code: 'privilege_escalation' });
    await expect(issue.execute({ caller, userId: 'u', permissions: { publish: ['users/{user_id}/out'] } })).resolves.toBeDefined();
    expect(tokens.allTokens()).toHaveLength(1);
  });

  it('checks user id and client id with their own codes', async () => {
    const { issue } = await setup();
    await expect(issue.execute({ caller: principal('org_a'), userId: 'a/b' })).rejects.toMatchObject({ code: 'invalid_user_id' });
    await expect(issue.execute({ caller: principal('org_a'), userId: 'u', clientId: '' })).rejects.toMatchObject({ code: 'invalid_client_id' });
  });

  it("answers invalid_api_key when the key's org is gone, and stores nothing", async () => {
    const { tokens, issue } = await setup();
    const error = await issue.execute({ caller: principal('org_gone'), userId: 'u' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(tokens.allTokens()).toEqual([]);
  });

  it("carries the org's will policy only when it is publish", async () => {
    const { issue } = await setup();
    const claims = await claimsOf((await issue.execute({ caller: principal('org_publish'), userId: 'u', clientId: 'c1' })).password);
    expect(claims).toMatchObject({ will: 'publish', cid: 'c1' });
  });
});
