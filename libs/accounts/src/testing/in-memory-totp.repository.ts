import type { TotpEnrolment, TotpRepository } from '../totp/totp.repository';

interface Stored {
  secret: string;
  confirmedAt: Date | null;
  lastStep: number | null;
  failures: number;
  lockedUntil: number | null;
  recovery: Set<string>;
}

/** TotpRepository in memory, for use-case specs; `now` is the clock the locks are read with. */
export class InMemoryTotpRepository implements TotpRepository {
  readonly rows = new Map<string, Stored>();
  now = (): number => Date.now();

  async find(accountId: string): Promise<TotpEnrolment | null> {
    const row = this.rows.get(accountId);
    if (!row) return null;
    const locked = row.lockedUntil !== null && row.lockedUntil > this.now() ? row.lockedUntil : null;
    return { accountId, secret: row.secret, confirmedAt: row.confirmedAt, lockedUntil: locked };
  }

  async putPending(accountId: string, secret: string): Promise<boolean> {
    if (this.rows.get(accountId)?.confirmedAt) return false;
    this.rows.set(accountId, { secret, confirmedAt: null, lastStep: null, failures: 0, lockedUntil: null, recovery: new Set() });
    return true;
  }

  async confirm(accountId: string, step: number, hashes: string[]): Promise<boolean> {
    const row = this.rows.get(accountId);
    if (!row || row.confirmedAt) return false;
    Object.assign(row, { confirmedAt: new Date(), lastStep: step, failures: 0, lockedUntil: null, recovery: new Set(hashes) });
    return true;
  }

  async useStep(accountId: string, step: number): Promise<boolean> {
    const row = this.rows.get(accountId);
    if (!row || (row.lastStep !== null && row.lastStep >= step)) return false;
    Object.assign(row, { lastStep: step, failures: 0 });
    return true;
  }

  async useRecoveryCode(accountId: string, hash: string): Promise<boolean> {
    const row = this.rows.get(accountId);
    if (!row?.recovery.delete(hash)) return false;
    row.failures = 0;
    return true;
  }

  async recordFailure(accountId: string, max: number, lockMs: number): Promise<number | null> {
    const row = this.rows.get(accountId);
    if (!row) return null;
    row.failures += 1;
    if (row.failures >= max) Object.assign(row, { failures: 0, lockedUntil: this.now() + lockMs });
    return row.lockedUntil !== null && row.lockedUntil > this.now() ? row.lockedUntil : null;
  }

  async countRecoveryCodes(accountId: string): Promise<number> {
    return this.rows.get(accountId)?.recovery.size ?? 0;
  }

  async remove(accountId: string): Promise<void> {
    this.rows.delete(accountId);
  }
}
