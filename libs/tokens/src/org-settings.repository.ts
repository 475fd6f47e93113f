import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { WillPolicy } from '@signet/credentials';
import { DATA_SOURCE } from '@signet/persistence';
import { OrgSettingsEntity, sqlState } from '@signet/persistence';

/** An org's settings; an org without a row has the defaults. */
export interface OrgSettings {
  willOnRevoke: WillPolicy;
}

/** The SQL of `org_settings`. */
export interface OrgSettingsRepository {
  /** The stored settings; null when the org never changed them. */
  find(orgId: string): Promise<OrgSettings | null>;
  /** Creates or replaces the org's settings; null when the org does not exist. */
  save(orgId: string, settings: OrgSettings): Promise<OrgSettings | null>;
}

export const ORG_SETTINGS_REPOSITORY = Symbol('ORG_SETTINGS_REPOSITORY');

const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class TypeOrmOrgSettingsRepository implements OrgSettingsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async find(orgId: string): Promise<OrgSettings | null> {
    const row = await this.dataSource.getRepository(OrgSettingsEntity).findOneBy({ orgId });
    return row ? { willOnRevoke: row.willOnRevoke } : null;
  }

  async save(orgId: string, settings: OrgSettings): Promise<OrgSettings | null> {
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO org_settings (org_id, will_on_revoke) VALUES ($1, $2)
         ON CONFLICT (org_id) DO UPDATE SET will_on_revoke = EXCLUDED.will_on_revoke, updated_at = now()
         RETURNING will_on_revoke`,
        [orgId, settings.willOnRevoke],
      )) as { will_on_revoke: WillPolicy }[];
      return { willOnRevoke: rows[0].will_on_revoke };
    } catch (err) {
      if (sqlState(err) === FOREIGN_KEY_VIOLATION) return null;
      throw err;
    }
  }
}
