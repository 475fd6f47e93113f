import type { ApiKeyPrincipal } from '../../principal';

export interface GetKeyCommand {
  caller: ApiKeyPrincipal;
  keyId: string;
}
