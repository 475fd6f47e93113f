import type { Logger } from '@signet/observability';
import { CapturingLogger, createCapturingLogger } from '@signet/testing';

import { InMemoryAccountsRepository } from '../../testing';
import { AuthenticateUseCase } from '../authenticate/authenticate.usecase';
import { SignupCodeService } from '../bootstrap/signup-code.service';
import { CreateAccountUseCase } from '../create/create-account.usecase';
import { SignUpUseCase } from './sign-up.usecase';

const PASSWORD = 'a long enough password';

describe('first account from the sign-up code', () => {
  let repository: InMemoryAccountsRepository;
  let codes: SignupCodeService;
  let signUp: SignUpUseCase;
  let authenticate: AuthenticateUseCase;
  let logger: CapturingLogger;
  beforeEach(() => {
    logger = createCapturingLogger();
    repository = new InMemoryAccountsRepository();
    codes = new SignupCodeService(repository, logger as unknown as Logger);
    signUp = new SignUpUseCase(repository);
    authenticate = new AuthenticateUseCase(repository);
  });

  it('creates the owner once; the code does not work twice', async () => {
    const code = (await codes.issueFor('org_a'))!;
    expect(code).toMatch(/^su_/);
    // Logged that a code exists, never the code.
    expect(JSON.stringify(logger.logs)).not.toContain(code);
    expect(logger.find('sign-up code')).toHaveLength(1);
    const account = await signUp.execute({ signupCode: code, username: 'alice', password: PASSWORD });
    expect(account).toMatchObject({ orgId: 'org_a', username: 'alice', role: 'owner' });
    expect(account.passwordHash).toMatch(/^\$argon2id\$/);
    await expect(signUp.execute({ signupCode: code, username: 'bob', password: PASSWORD })).rejects.toMatchObject({ status: 401, code: 'invalid_signup_code' });
    // An org with an account gets no new code.
    expect(await codes.issueFor('org_a')).toBeNull();
  });

  it('refuses bad usernames and short passwords before using the code', async () => {
    const code = (await codes.issueFor('org_a'))!;
    await expect(signUp.execute({ signupCode: code, username: 'a b', password: PASSWORD })).rejects.toMatchObject({ code: 'invalid_username' });
    await expect(signUp.execute({ signupCode: code, username: 'alice', password: 'short' })).rejects.toMatchObject({ code: 'weak_password' });
    await expect(signUp.execute({ signupCode: code, username: 'alice', password: PASSWORD })).resolves.toMatchObject({ role: 'owner' });
  });

  it('a taken username is 409 and leaves the code usable', async () => {
    await signUp.execute({ signupCode: (await codes.issueFor('org_a'))!, username: 'alice', password: PASSWORD });
    const other = (await codes.issueFor('org_b'))!;
    await expect(signUp.execute({ signupCode: other, username: 'alice', password: PASSWORD })).rejects.toMatchObject({ status: 409, code: 'username_taken' });
    await expect(signUp.execute({ signupCode: other, username: 'bob', password: PASSWORD })).resolves.toMatchObject({ orgId: 'org_b' });
  });

  it('authenticates the right password only, and unknown names alike', async () => {
    await signUp.execute({ signupCode: (await codes.issueFor('org_a'))!, username: 'alice', password: PASSWORD });
    expect(await authenticate.execute({ username: 'alice', password: PASSWORD })).toMatchObject({ username: 'alice' });
    expect(await authenticate.execute({ username: 'alice', password: `${PASSWORD}!` })).toBeNull();
    expect(await authenticate.execute({ username: 'nobody', password: PASSWORD })).toBeNull();
  });
});

describe('adding accounts', () => {
  const caller = (role: 'owner' | 'admin' | 'viewer') => ({ accountId: 'acc_c', orgId: 'org_a', username: 'c', role, clientId: 'signet-cli', expiresAt: 0 });
  let create: CreateAccountUseCase;
  beforeEach(() => {
    create = new CreateAccountUseCase(new InMemoryAccountsRepository());
  });

  it('an owner or a secret key adds any role in its own org', async () => {
    await expect(create.execute({ orgId: 'org_a', session: caller('owner'), username: 'o2', password: PASSWORD, role: 'owner' })).resolves.toMatchObject({ orgId: 'org_a', role: 'owner' });
    await expect(create.execute({ orgId: 'org_a', username: 'v1', password: PASSWORD, role: 'viewer' })).resolves.toMatchObject({ role: 'viewer' });
  });

  it('an admin cannot add an owner; a viewer adds nobody; unknown roles are 400', async () => {
    await expect(create.execute({ orgId: 'org_a', session: caller('admin'), username: 'o3', password: PASSWORD, role: 'owner' })).rejects.toMatchObject({ status: 403, code: 'role_escalation' });
    await expect(create.execute({ orgId: 'org_a', session: caller('admin'), username: 'a2', password: PASSWORD, role: 'admin' })).resolves.toMatchObject({ role: 'admin' });
    await expect(create.execute({ orgId: 'org_a', session: caller('viewer'), username: 'v2', password: PASSWORD, role: 'viewer' })).rejects.toMatchObject({ code: 'role_escalation' });
    await expect(create.execute({ orgId: 'org_a', username: 'x', password: PASSWORD, role: 'root' })).rejects.toMatchObject({ code: 'invalid_role' });
  });
});
