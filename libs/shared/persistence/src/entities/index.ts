import { AccountEntity, AccountSignupCodeEntity, OidcPayloadEntity } from './account.entity';
import { ApiKeyUsageEntity } from './api-key-usage.entity';
import { ApiKeyEntity } from './api-key.entity';
import { AuditEventEntity } from './audit-event.entity';
import { IdpEventEntity } from './idp-event.entity';
import { IdpProviderEntity } from './idp-provider.entity';
import { IssuedTokenEntity } from './issued-token.entity';
import { OrgSettingsEntity } from './org-settings.entity';
import { OrgEntity } from './org.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { RevocationEntity } from './revocation.entity';
import { SigningKeyEntity } from './signing-key.entity';

export * from './account.entity';
export * from './api-key-usage.entity';
export * from './api-key.entity';
export * from './audit-event.entity';
export * from './idp-event.entity';
export * from './idp-provider.entity';
export * from './issued-token.entity';
export * from './org-settings.entity';
export * from './org.entity';
export * from './refresh-token.entity';
export * from './revocation.entity';
export * from './signing-key.entity';

/** Every entity, listed explicitly: no globs, so the same list works from ts (jest) and from dist. */
export const SIGNET_ENTITIES = [
  OrgEntity,
  ApiKeyEntity,
  SigningKeyEntity,
  IssuedTokenEntity,
  RefreshTokenEntity,
  RevocationEntity,
  ApiKeyUsageEntity,
  IdpProviderEntity,
  OrgSettingsEntity,
  AccountEntity,
  AccountSignupCodeEntity,
  OidcPayloadEntity,
  IdpEventEntity,
  AuditEventEntity,
];
