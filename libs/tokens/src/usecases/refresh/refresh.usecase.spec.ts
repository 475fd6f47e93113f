import { tamper } from '@signet/testing';

import { InMemoryTokenRepository, principal, silentLogger, TEST_TOKENS_OPTIONS, testIssuer } from '../../testing';
import { IssueTokenUseCase } from '../issue/issue.usecase';
import { RefreshTokenUseCase } from './refresh.usecase';

async function setup() {
  const tokens = new InMemoryTokenRepository();
  tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: null });
  const issuer = await testIssuer(tokens);
  const issue = new IssueTokenUseCase(TEST_TOKENS_OPTIONS, issuer);
  const refresh = new RefreshTokenUseCase(tokens, TEST_TOKENS_OPTIONS, silentLogger(), issuer);
  return { tokens, issue, refresh };
}

describe('RefreshTokenUseCase (through the repository fakes)', () => {
  it('rotates: the same grant in the same family, and the used refresh token is spent', async () => {
    const { tokens, issue, refresh } = await setup();
    const first = await issue.execute({ caller: principal('org_a'), userId: 'u', ttlSeconds: 900, permissions: { subscribe: ['a/+'] }, clientId: 'c' });
    const second = await refresh.execute({ refreshToken: first.refreshToken });
    expect(second.tokenId).not.toBe(first.tokenId);
    const [a, b] = [tokens.token(first.tokenId), tokens.token(second.tokenId)];
    expect(b).toMatchObject({ familyId: a?.familyId, clientId: 'c', permissions: { publish: [], subscribe: ['a/+'] } });
    expect((b!.expiresAt.getTime() - b!.issuedAt.getTime()) / 1000).toBe(900);
    expect(tokens.refreshTokens().filter((r) => r.usedAt !== null).map((r) => r.tokenId)).toEqual([first.tokenId]);
  });

  it('is single use: a second use is reuse, which revokes the whole chain and records one revocation', async () => {
    const { tokens, issue, refresh } = await setup();
    const first = await issue.execute({ caller: principal('org_a'), userId: 'u' });
    const second = await refresh.execute({ refreshToken: first.refreshToken });
    const third = await refresh.execute({ refreshToken: second.refreshToken });
    const other = await issue.execute({ caller: principal('org_a'), userId: 'u' });

    await expect(refresh.execute({ refreshToken: first.refreshToken })).rejects.toMatchObject({ status: 401, code: 'refresh_token_reused' });

    // Live tokens of the family are revoked (the first two were not revoked by rotation, only their refresh tokens spent).
    for (const id of [first.tokenId, second.tokenId, third.tokenId]) expect(tokens.token(id)?.revokedAt).not.toBeNull();
    expect(tokens.token(other.tokenId)?.revokedAt).toBeNull();
    expect(tokens.revocations).toEqual([
      { credentialIds: expect.arrayContaining([first.tokenId, second.tokenId, third.tokenId]) as string[], reason: 'refresh_reuse' },
    ]);
    // The family's unused refresh token is revoked too: the server cannot tell the legitimate holder from the thief.
    await expect(refresh.execute({ refreshToken: third.refreshToken })).rejects.toMatchObject({ code: 'invalid_refresh_token' });
    await expect(refresh.execute({ refreshToken: other.refreshToken })).resolves.toBeDefined();
  });

  it('refuses malformed, unknown and expired refresh tokens as invalid_refresh_token', async () => {
    const { issue, refresh } = await setup();
    await expect(refresh.execute({ refreshToken: 'nope' })).rejects.toMatchObject({ code: 'invalid_refresh_token' });
    const issued = await issue.execute({ caller: principal('org_a'), userId: 'u' });
    const unknown = tamper(issued.refreshToken, 4);
    await expect(refresh.execute({ refreshToken: unknown })).rejects.toMatchObject({ code: 'invalid_refresh_token' });
  });

  it('re-caps the TTL when the org maximum was lowered since', async () => {
    const tokens = new InMemoryTokenRepository();
    tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: null });
    const issuer = await testIssuer(tokens);
    const first = await new IssueTokenUseCase(TEST_TOKENS_OPTIONS, issuer).execute({ caller: principal('org_a'), userId: 'u', ttlSeconds: 3000 });
    tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: 60 });
    const second = await new RefreshTokenUseCase(tokens, TEST_TOKENS_OPTIONS, silentLogger(), issuer).execute({ refreshToken: first.refreshToken });
    const row = tokens.token(second.tokenId)!;
    expect((row.expiresAt.getTime() - row.issuedAt.getTime()) / 1000).toBe(60);
  });
});
