import { InitialSchema1795888528755 } from './1795888528755-initial-schema';
import { ApiKeyLifecycle1795900000000 } from './1795900000000-api-key-lifecycle';
import { IdpProviders1795910000000 } from './1795910000000-idp-providers';
import { OrgSettings1795920000000 } from './1795920000000-org-settings';
import { TokenRetention1795930000000 } from './1795930000000-token-retention';
import { AccountsSignIn1796000000000 } from './1796000000000-accounts-sign-in';

/** Every migration in order, listed explicitly (no globs: works from ts and from dist alike). */
export const SIGNET_MIGRATIONS = [
  InitialSchema1795888528755,
  ApiKeyLifecycle1795900000000,
  IdpProviders1795910000000,
  OrgSettings1795920000000,
  TokenRetention1795930000000,
  AccountsSignIn1796000000000,
];
