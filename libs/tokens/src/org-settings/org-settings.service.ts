import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DEFAULT_WILL_POLICY, WillPolicy } from '@signet/credentials';
import { unauthorized } from '@signet/http';
import { DATA_SOURCE, OrgSettingsEntity } from '@signet/persistence';

import type { OrgSettingsDto, UpdateOrgSettingsDto } from './dto';

const FOREIGN_KEY_VIOLATION = '23503';

/** GET/PATCH /v1/org/settings: an org without a row has the defaults. */
@Injectable()
export class OrgSettingsService {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async get(orgId: string): Promise<OrgSettingsDto> {
    const row = await this.dataSource.getRepository(OrgSettingsEntity).findOneBy({ orgId });
    return { will_on_revoke: row?.willOnRevoke ?? DEFAULT_WILL_POLICY };
  }

  async update(orgId: string, patch: UpdateOrgSettingsDto): Promise<OrgSettingsDto> {
    const willOnRevoke = patch.will_on_revoke;
    if (willOnRevoke === undefined) return this.get(orgId);
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO org_settings (org_id, will_on_revoke) VALUES ($1, $2)
         ON CONFLICT (org_id) DO UPDATE SET will_on_revoke = EXCLUDED.will_on_revoke, updated_at = now()
         RETURNING will_on_revoke`,
        [orgId, willOnRevoke],
      )) as { will_on_revoke: WillPolicy }[];
      return { will_on_revoke: rows[0].will_on_revoke };
    } catch (err) {
      // The key's org was deleted after its verdict was cached (as for POST /v1/tokens).
      if ((err as { driverError?: { code?: string } }).driverError?.code === FOREIGN_KEY_VIOLATION) {
        throw unauthorized('invalid_api_key', 'the API key is invalid, expired or revoked');
      }
      throw err;
    }
  }
}
