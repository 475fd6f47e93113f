/** Verify a presented `sk_`/`rk_` key string, as the REST guard does. */
export interface VerifyKeyCommand {
  key: string;
  /** Client address; checked against the key's IP allowlist, and the unit of throttling. */
  ip?: string;
}
