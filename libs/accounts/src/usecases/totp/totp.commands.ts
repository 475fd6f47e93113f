/** What a signed-in person asks of their own two-factor sign-in. */
export interface TotpAccountCommand {
  accountId: string;
}

export interface EnrolTotpCommand extends TotpAccountCommand {
  /** Shown by authenticator apps beside the code. */
  username: string;
}

export interface ConfirmTotpCommand extends TotpAccountCommand {
  code: string;
}

/** A second factor: a current TOTP code, or one of the recovery codes. */
export interface SecondFactorCommand extends TotpAccountCommand {
  code?: string;
  recoveryCode?: string;
}

/** Disabling needs a current code (or a recovery code) or the password. */
export interface DisableTotpCommand extends SecondFactorCommand {
  password?: string;
}
