import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, ValidateIf } from 'class-validator';

import { WILL_POLICIES, WillPolicy } from '@signet/credentials';

const WILL_ON_REVOKE =
  "What happens to an MQTT session's will (last will and testament) when its credential is revoked or expires: " +
  "'suppress' (default) drops it, 'publish' sends it at once. Carried in tokens issued, refreshed or exchanged after the change, " +
  'and in API key verdicts fetched after it (within SIGNET_KEY_CACHE_MS).';

export class OrgSettingsDto {
  @ApiProperty({ enum: WILL_POLICIES, description: WILL_ON_REVOKE, example: 'suppress' })
  will_on_revoke!: WillPolicy;
}

/** PATCH body: the fields given change; unknown fields and values are refused (400 validation_failed). */
export class UpdateOrgSettingsDto {
  @ApiPropertyOptional({ enum: WILL_POLICIES, description: WILL_ON_REVOKE, example: 'publish' })
  // Omitted: unchanged; null is not a value (IsOptional would let it through).
  @ValidateIf((_o, v) => v !== undefined)
  @IsIn(WILL_POLICIES, { message: `will_on_revoke must be one of: ${WILL_POLICIES.join(', ')}` })
  will_on_revoke?: WillPolicy;
}
