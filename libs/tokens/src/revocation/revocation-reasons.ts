/** Reasons the token service records with a revocation; free text is allowed, these are the ones it uses. */
export const REVOCATION_REASONS = {
  tokenRevoked: 'token_revoked',
  userRevoked: 'user_revoked',
  refreshReuse: 'refresh_reuse',
} as const;
