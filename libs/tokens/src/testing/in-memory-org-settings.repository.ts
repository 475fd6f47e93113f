import type { OrgSettings, OrgSettingsRepository } from '../org-settings.repository';

/** OrgSettingsRepository in memory; `save` for an org not in `orgs` answers null, like the foreign key. */
export class InMemoryOrgSettingsRepository implements OrgSettingsRepository {
  readonly orgs = new Set<string>();
  private readonly rows = new Map<string, OrgSettings>();

  async find(orgId: string): Promise<OrgSettings | null> {
    const row = this.rows.get(orgId);
    return row ? { ...row } : null;
  }

  async save(orgId: string, settings: OrgSettings): Promise<OrgSettings | null> {
    if (!this.orgs.has(orgId)) return null;
    this.rows.set(orgId, { ...settings });
    return { ...settings };
  }
}
