import type { ApiKeyPrincipal } from '../../principal';

export interface RevokeKeyCommand {
  caller: ApiKeyPrincipal;
  keyId: string;
}
