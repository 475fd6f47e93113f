import { authenticator } from 'otplib';

import { InMemoryAccountsRepository, InMemoryTotpRepository } from '../../testing';
import { hashPassword } from '../../password';
import { CheckSecondFactorUseCase, TOTP_LOCK_MS, TOTP_MAX_FAILURES } from './check-second-factor.usecase';
import { ConfirmTotpUseCase } from './confirm-totp.usecase';
import { DisableTotpUseCase } from './disable-totp.usecase';
import { EnrolTotpUseCase } from './enrol-totp.usecase';
import { GetTotpUseCase } from './get-totp.usecase';

const codeAt = (secret: string, offsetSteps = 0) => authenticator.clone({ epoch: Date.now() + offsetSteps * 30_000 }).generate(secret);
const wrongCode = (secret: string) => ['000000', '111111', '222222'].find((c) => ![-1, 0, 1].some((o) => codeAt(secret, o) === c))!;

describe('TOTP use cases', () => {
  let totp: InMemoryTotpRepository;
  let accounts: InMemoryAccountsRepository;
  let check: CheckSecondFactorUseCase;
  let enrol: EnrolTotpUseCase;
  let confirm: ConfirmTotpUseCase;
  let status: GetTotpUseCase;

  beforeEach(() => {
    totp = new InMemoryTotpRepository();
    accounts = new InMemoryAccountsRepository();
    check = new CheckSecondFactorUseCase(totp);
    enrol = new EnrolTotpUseCase(totp);
    confirm = new ConfirmTotpUseCase(totp, check);
    status = new GetTotpUseCase(totp);
  });

  async function enrolled(): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await enrol.execute({ accountId: 'acc_1', username: 'alice' });
    const { recoveryCodes } = await confirm.execute({ accountId: 'acc_1', code: codeAt(secret) });
    return { secret, recoveryCodes };
  }

  it('is pending until a first valid code; a second enrolment is refused once on', async () => {
    const { secret, otpauthUri } = await enrol.execute({ accountId: 'acc_1', username: 'alice' });
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toBe(`otpauth://totp/Signet:alice?secret=${secret}&period=30&digits=6&algorithm=SHA1&issuer=Signet`);
    expect(await status.execute({ accountId: 'acc_1' })).toEqual({ status: 'pending', recoveryCodesLeft: 0 });
    await expect(confirm.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ status: 400, code: 'invalid_totp_code' });
    const { recoveryCodes } = await confirm.execute({ accountId: 'acc_1', code: codeAt(secret) });
    expect(recoveryCodes).toHaveLength(10);
    expect(recoveryCodes.every((c) => /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/.test(c))).toBe(true);
    expect(await status.execute({ accountId: 'acc_1' })).toEqual({ status: 'on', recoveryCodesLeft: 10 });
    await expect(enrol.execute({ accountId: 'acc_1', username: 'alice' })).rejects.toMatchObject({ status: 409, code: 'totp_already_enabled' });
    // Recovery codes are kept as hashes only.
    expect([...totp.rows.get('acc_1')!.recovery].some((h) => recoveryCodes.includes(h))).toBe(false);
  });

  it('never accepts a code of a time step already used (RFC 6238 §5.2)', async () => {
    const { secret } = await enrolled();
    // The confirming code spent the current step.
    await expect(check.execute({ accountId: 'acc_1', code: codeAt(secret) })).rejects.toMatchObject({ code: 'invalid_totp_code' });
    await check.execute({ accountId: 'acc_1', code: codeAt(secret, 1) });
    await expect(check.execute({ accountId: 'acc_1', code: codeAt(secret, 1) })).rejects.toMatchObject({ code: 'invalid_totp_code' });
    // Older than the last step used: refused too, though within the drift window.
    await expect(check.execute({ accountId: 'acc_1', code: codeAt(secret, -1) })).rejects.toMatchObject({ code: 'invalid_totp_code' });
  });

  it('recovery codes work once, whatever their case and dashes', async () => {
    const { recoveryCodes } = await enrolled();
    await check.execute({ accountId: 'acc_1', recoveryCode: recoveryCodes[3].toUpperCase().replace(/-/g, ' ') });
    await expect(check.execute({ accountId: 'acc_1', recoveryCode: recoveryCodes[3] })).rejects.toMatchObject({ code: 'invalid_totp_code' });
    expect(await status.execute({ accountId: 'acc_1' })).toEqual({ status: 'on', recoveryCodesLeft: 9 });
  });

  it(`locks codes for ${TOTP_LOCK_MS / 60_000} minutes after ${TOTP_MAX_FAILURES} wrong ones in a row; a right one resets the count`, async () => {
    const { secret } = await enrolled();
    for (let i = 0; i < TOTP_MAX_FAILURES - 1; i++) await expect(check.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ status: 400 });
    await check.execute({ accountId: 'acc_1', code: codeAt(secret, 1) });
    for (let i = 0; i < TOTP_MAX_FAILURES - 1; i++) await expect(check.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ status: 400 });
    await expect(check.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ status: 429, code: 'totp_throttled' });
    // Locked: even an unused right code is refused, until the lock ends.
    await expect(check.execute({ accountId: 'acc_1', recoveryCode: 'whatever' })).rejects.toMatchObject({ status: 429 });
    const later = Date.now() + TOTP_LOCK_MS + 1;
    totp.now = () => later;
    await expect(check.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ status: 400 });
  });

  it('disabling takes a current code or the password, not a session alone', async () => {
    const disable = new DisableTotpUseCase(totp, accounts, check);
    await accounts.create({ id: 'acc_1', orgId: 'org_1', username: 'alice', role: 'owner', passwordHash: await hashPassword('correct horse battery') });
    const { secret } = await enrolled();
    await expect(disable.execute({ accountId: 'acc_1' })).rejects.toMatchObject({ code: 'invalid_totp_code' });
    await expect(disable.execute({ accountId: 'acc_1', password: 'wrong password here' })).rejects.toMatchObject({ code: 'invalid_password' });
    await expect(disable.execute({ accountId: 'acc_1', code: wrongCode(secret) })).rejects.toMatchObject({ code: 'invalid_totp_code' });
    await disable.execute({ accountId: 'acc_1', password: 'correct horse battery' });
    expect(await status.execute({ accountId: 'acc_1' })).toEqual({ status: 'off', recoveryCodesLeft: 0 });
    await expect(disable.execute({ accountId: 'acc_1', password: 'correct horse battery' })).rejects.toMatchObject({ status: 404, code: 'totp_not_enrolled' });
  });
});
