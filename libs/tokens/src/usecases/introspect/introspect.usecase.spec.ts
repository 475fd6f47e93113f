import { importPublicJwk } from '@signet/credentials';

import { InMemoryTokenRepository, principal, TEST_TOKENS_OPTIONS, testIssuer, testSigningKey } from '../../testing';
import { IssueTokenUseCase } from '../issue/issue.usecase';
import { IntrospectTokenUseCase } from './introspect.usecase';

describe('IntrospectTokenUseCase (through the repository fake)', () => {
  it("is active only for a live token of the caller's org, and says nothing more otherwise", async () => {
    const tokens = new InMemoryTokenRepository();
    tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: null });
    const issued = await new IssueTokenUseCase(TEST_TOKENS_OPTIONS, await testIssuer(tokens)).execute({ caller: principal('org_a'), userId: 'u' });
    const verifyKey = await importPublicJwk((await testSigningKey()).publicJwk);
    const introspect = new IntrospectTokenUseCase(tokens, { verifierKeyResolver: () => () => verifyKey });

    await expect(introspect.execute({ orgId: 'org_a', token: issued.password })).resolves.toMatchObject({
      active: true,
      claims: { sub: 'u', org: 'org_a', jti: issued.tokenId },
    });
    await expect(introspect.execute({ orgId: 'org_b', token: issued.password })).resolves.toEqual({ active: false });
    await expect(introspect.execute({ orgId: 'org_a', token: 'tkn_garbage' })).resolves.toEqual({ active: false });

    await tokens.transaction(async (tx) => tx.revokeFamily(tokens.token(issued.tokenId)!.familyId, 'token_revoked'));
    await expect(introspect.execute({ orgId: 'org_a', token: issued.password })).resolves.toEqual({ active: false });
  });
});
