import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, SECRET_BOX, type SecretBox } from '@signet/persistence';

/** An account's TOTP enrolment, its secret opened (only the accounts feature sees it). */
export interface TotpEnrolment {
  accountId: string;
  secret: string;
  /** Null while pending: enrolled but not yet confirmed with a first code. */
  confirmedAt: Date | null;
  /** ms epoch until which codes are refused after too many wrong ones; null when not locked. */
  lockedUntil: number | null;
}

/** The SQL of `account_totp` and `account_recovery_codes`. */
export interface TotpRepository {
  find(accountId: string): Promise<TotpEnrolment | null>;
  /** A new pending enrolment (replacing a pending one); false when a confirmed one exists. */
  putPending(accountId: string, secret: string): Promise<boolean>;
  /**
   * Marks the enrolment confirmed at `step` (so the confirming code is spent) and replaces the
   * recovery codes, in one transaction; false when it is not pending any more.
   */
  confirm(accountId: string, step: number, recoveryCodeHashes: string[]): Promise<boolean>;
  /** Spends time step `step`: true only when no code of this step or a later one was used before. Resets failures. */
  useStep(accountId: string, step: number): Promise<boolean>;
  /** Spends a recovery code (single use); resets failures on success. */
  useRecoveryCode(accountId: string, codeHash: string): Promise<boolean>;
  /** Counts a wrong code; the `max`-th in a row locks codes for `lockMs`. Answers the lock's end (ms epoch) or null. */
  recordFailure(accountId: string, max: number, lockMs: number): Promise<number | null>;
  countRecoveryCodes(accountId: string): Promise<number>;
  /** Removes the enrolment and its recovery codes. */
  remove(accountId: string): Promise<void>;
}

export const TOTP_REPOSITORY = Symbol('TOTP_REPOSITORY');

interface Row {
  account_id: string;
  secret_sealed: string;
  confirmed_at: Date | null;
  locked_until: Date | null;
}

// The account id is the sealing context: a secret copied to another account's row does not open.
const context = (accountId: string): string => `account_totp:${accountId}`;

@Injectable()
export class TypeOrmTotpRepository implements TotpRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async find(accountId: string): Promise<TotpEnrolment | null> {
    const rows = (await this.dataSource.query(`SELECT account_id, secret_sealed, confirmed_at, locked_until FROM account_totp WHERE account_id = $1`, [accountId])) as Row[];
    const row = rows[0];
    if (!row) return null;
    const locked = row.locked_until && row.locked_until.getTime() > Date.now() ? row.locked_until.getTime() : null;
    return { accountId, secret: this.box.open(row.secret_sealed, context(accountId)), confirmedAt: row.confirmed_at, lockedUntil: locked };
  }

  async putPending(accountId: string, secret: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO account_totp (account_id, secret_sealed) VALUES ($1, $2)
       ON CONFLICT (account_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = NULL, failed_attempts = 0, created_at = now()
         WHERE account_totp.confirmed_at IS NULL
       RETURNING account_id`,
      [accountId, this.box.seal(secret, context(accountId))],
    )) as unknown[];
    return rows.length > 0;
  }

  confirm(accountId: string, step: number, recoveryCodeHashes: string[]): Promise<boolean> {
    return this.dataSource.transaction(async (em) => {
      const rows = (await em.query(
        `UPDATE account_totp SET confirmed_at = now(), last_step = $2, failed_attempts = 0, locked_until = NULL
         WHERE account_id = $1 AND confirmed_at IS NULL RETURNING account_id`,
        [accountId, step],
      )) as unknown[][];
      // TypeORM's postgres driver answers UPDATE … RETURNING as [rows, count].
      if (rows[0].length === 0) return false;
      await em.query(`DELETE FROM account_recovery_codes WHERE account_id = $1`, [accountId]);
      await em.query(`INSERT INTO account_recovery_codes (account_id, code_hash) SELECT $1, unnest($2::varchar[])`, [accountId, recoveryCodeHashes]);
      return true;
    });
  }

  async useStep(accountId: string, step: number): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE account_totp SET last_step = $2, failed_attempts = 0 WHERE account_id = $1 AND (last_step IS NULL OR last_step < $2) RETURNING account_id`,
      [accountId, step],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async useRecoveryCode(accountId: string, codeHash: string): Promise<boolean> {
    return this.dataSource.transaction(async (em) => {
      const deleted = (await em.query(`DELETE FROM account_recovery_codes WHERE account_id = $1 AND code_hash = $2 RETURNING code_hash`, [accountId, codeHash])) as [unknown[], number];
      if (deleted[0].length === 0) return false;
      await em.query(`UPDATE account_totp SET failed_attempts = 0 WHERE account_id = $1`, [accountId]);
      return true;
    });
  }

  async recordFailure(accountId: string, max: number, lockMs: number): Promise<number | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE account_totp SET
         failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
         locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN now() + make_interval(secs => $3::double precision / 1000) ELSE locked_until END
       WHERE account_id = $1 RETURNING locked_until`,
      [accountId, max, lockMs],
    )) as [Array<{ locked_until: Date | null }>, number];
    const until = rows[0]?.locked_until?.getTime() ?? null;
    return until !== null && until > Date.now() ? until : null;
  }

  async countRecoveryCodes(accountId: string): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT count(*)::int AS n FROM account_recovery_codes WHERE account_id = $1`, [accountId])) as Array<{ n: number }>;
    return rows[0]?.n ?? 0;
  }

  async remove(accountId: string): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      await em.query(`DELETE FROM account_recovery_codes WHERE account_id = $1`, [accountId]);
      await em.query(`DELETE FROM account_totp WHERE account_id = $1`, [accountId]);
    });
  }
}
