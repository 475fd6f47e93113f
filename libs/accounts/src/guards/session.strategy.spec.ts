import type { SessionPrincipal, SessionVerifier } from '@signet/api-keys';

import { SessionStrategy } from './session.strategy';

const alice: SessionPrincipal = { accountId: 'acc_1', orgId: 'org_1', username: 'alice', role: 'viewer', clientId: 'signet-cli', expiresAt: Date.now() + 60_000 };

describe('SessionStrategy (passport)', () => {
  const looked: string[] = [];
  const verifier: SessionVerifier = { verify: async (token) => (looked.push(token), token === 'tok_alice' ? alice : null) };
  const strategy = new SessionStrategy(verifier);
  const validate = (authorization?: string) => strategy.validate({ headers: authorization === undefined ? {} : { authorization } } as never);

  it('answers the session of a live access token, any role', async () => {
    await expect(validate('Bearer tok_alice')).resolves.toEqual(alice);
    await expect(validate('bearer   tok_alice ')).resolves.toEqual(alice);
  });

  it("keeps the guard's problem codes: missing, malformed, unknown", async () => {
    await expect(validate()).rejects.toMatchObject({ status: 401, code: 'missing_api_key' });
    await expect(validate('Basic dXNlcjpwYXNz')).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(validate('Bearer tok_gone')).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('refuses API keys without looking them up: 401 session_required', async () => {
    looked.length = 0;
    await expect(validate('Bearer sk_abc')).rejects.toMatchObject({ status: 401, code: 'session_required' });
    await expect(validate('Bearer rk_abc')).rejects.toMatchObject({ status: 401, code: 'session_required' });
    expect(looked).toEqual([]);
  });
});
