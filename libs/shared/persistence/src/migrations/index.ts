import { InitialSchema1795888528755 } from './1795888528755-initial-schema';
import { ApiKeyLifecycle1795900000000 } from './1795900000000-api-key-lifecycle';
import { IdpProviders1795910000000 } from './1795910000000-idp-providers';
import { OrgSettings1795920000000 } from './1795920000000-org-settings';
import { TokenRetention1795930000000 } from './1795930000000-token-retention';
import { AccountsSignIn1796000000000 } from './1796000000000-accounts-sign-in';
import { AuthWebhooks1796100000000 } from './1796100000000-auth-webhooks';
import { Directory1796200000000 } from './1796200000000-directory';
import { IdpEvents1796400000000 } from './1796400000000-idp-events';
import { IdempotencyKeys1796500000000 } from './1796500000000-idempotency-keys';
import { RevocationRelay1796600000000 } from './1796600000000-revocation-relay';
import { AuditLog1796700000000 } from './1796700000000-audit-log';
import { CertificateAuthorities1796800000000 } from './1796800000000-certificate-authorities';
import { DirectoryLdapIncremental1797100000000 } from './1797100000000-directory-ldap-incremental';
import { RevocationOutbox1797200000000 } from './1797200000000-revocation-outbox';
import { TotpSso1797300000000 } from './1797300000000-totp-sso';
import { OidcPayloadExpiry1797400000000 } from './1797400000000-oidc-payload-expiry';

/** Every migration in order, listed explicitly (no globs: works from ts and from dist alike). */
export const SIGNET_MIGRATIONS = [
  InitialSchema1795888528755,
  ApiKeyLifecycle1795900000000,
  IdpProviders1795910000000,
  OrgSettings1795920000000,
  TokenRetention1795930000000,
  AccountsSignIn1796000000000,
  AuthWebhooks1796100000000,
  Directory1796200000000,
  IdpEvents1796400000000,
  IdempotencyKeys1796500000000,
  RevocationRelay1796600000000,
  AuditLog1796700000000,
  CertificateAuthorities1796800000000,
  DirectoryLdapIncremental1797100000000,
  RevocationOutbox1797200000000,
  TotpSso1797300000000,
  OidcPayloadExpiry1797400000000,
];
