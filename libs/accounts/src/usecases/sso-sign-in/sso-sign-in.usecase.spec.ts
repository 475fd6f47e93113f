import type { SsoConnection } from '../../sso/sso.repository';
import { InMemoryAccountsRepository, InMemorySsoRepository } from '../../testing';
import { SsoSignInUseCase } from './sso-sign-in.usecase';

const connection = (overrides: Partial<SsoConnection> = {}): SsoConnection => ({
  id: 'sso_1',
  orgId: 'org_1',
  name: 'Example',
  issuer: 'https://idp.example.com',
  clientId: 'signet',
  clientSecret: 'secret',
  allowedDomains: ['example.com'],
  defaultRole: 'viewer',
  linkByEmail: false,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...overrides,
});

describe('SsoSignInUseCase', () => {
  let accounts: InMemoryAccountsRepository;
  let sso: InMemorySsoRepository;
  let signIn: SsoSignInUseCase;

  beforeEach(() => {
    accounts = new InMemoryAccountsRepository();
    sso = new InMemorySsoRepository(accounts);
    signIn = new SsoSignInUseCase(sso, accounts);
  });

  const person = (sub: string, email: string, verified: unknown = true) => ({ sub, email, email_verified: verified });

  it('makes an account with the default role at a first sign-in, and matches it by sub afterwards', async () => {
    const id = await signIn.execute({ connection: connection(), claims: person('idp-1', 'Carol@Example.com') });
    expect(await accounts.findById(id)).toMatchObject({ orgId: 'org_1', username: 'carol@example.com', role: 'viewer', passwordHash: null });
    // A changed e-mail at the IdP is still the same person (sub), as long as its domain is allowed.
    expect(await signIn.execute({ connection: connection(), claims: person('idp-1', 'carol.new@example.com') })).toBe(id);
  });

  it('refuses an unverified e-mail and a domain not allowed, also for a linked person', async () => {
    await expect(signIn.execute({ connection: connection(), claims: person('idp-1', 'carol@example.com', 'true') })).rejects.toMatchObject({ code: 'sso_email_not_verified' });
    await expect(signIn.execute({ connection: connection(), claims: person('idp-1', 'carol@example.com.evil.test') })).rejects.toMatchObject({ code: 'sso_domain_not_allowed' });
    await expect(signIn.execute({ connection: connection(), claims: person('idp-1', 'carol@sub.example.com') })).rejects.toMatchObject({ code: 'sso_domain_not_allowed' });
    await signIn.execute({ connection: connection(), claims: person('idp-1', 'carol@example.com') });
    await expect(signIn.execute({ connection: connection(), claims: person('idp-1', 'carol@elsewhere.test') })).rejects.toMatchObject({ code: 'sso_domain_not_allowed' });
  });

  it('existing accounts only: a new person is refused', async () => {
    await expect(signIn.execute({ connection: connection({ defaultRole: null }), claims: person('idp-2', 'dave@example.com') })).rejects.toMatchObject({ status: 403, code: 'sso_no_account' });
    expect(accounts.accounts.size).toBe(0);
  });

  it('links an existing account by verified e-mail only when the org allows it, and only in its org', async () => {
    await accounts.create({ id: 'acc_alice', orgId: 'org_1', username: 'alice@example.com', role: 'owner', passwordHash: 'x' });
    await accounts.create({ id: 'acc_other', orgId: 'org_2', username: 'bob@example.com', role: 'owner', passwordHash: 'x' });
    await expect(signIn.execute({ connection: connection(), claims: person('idp-a', 'alice@example.com') })).rejects.toMatchObject({ code: 'sso_username_taken' });
    const linking = connection({ linkByEmail: true });
    expect(await signIn.execute({ connection: linking, claims: person('idp-a', 'alice@example.com') })).toBe('acc_alice');
    expect(await sso.linkedAccountId('sso_1', 'idp-a')).toBe('acc_alice');
    await expect(signIn.execute({ connection: linking, claims: person('idp-b', 'bob@example.com') })).rejects.toMatchObject({ code: 'sso_username_taken' });
  });
});
