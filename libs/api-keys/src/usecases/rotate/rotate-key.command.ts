import type { ApiKeyPrincipal } from '../../principal';

export interface RotateKeyCommand {
  caller: ApiKeyPrincipal;
  keyId: string;
  /** How long the old key keeps working; default DEFAULT_GRACE_SECONDS. */
  graceSeconds?: number;
}
