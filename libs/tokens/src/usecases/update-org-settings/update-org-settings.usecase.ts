import { Inject, Injectable } from '@nestjs/common';

import { orgOfKeyGone } from '../../errors';
import { ORG_SETTINGS_REPOSITORY, OrgSettings, OrgSettingsRepository } from '../../org-settings.repository';
import { GetOrgSettingsUseCase } from '../get-org-settings/get-org-settings.usecase';
import type { UpdateOrgSettingsCommand } from './update-org-settings.command';

/** PATCH /v1/org/settings: upserts the org's row; answers the settings after the change. */
@Injectable()
export class UpdateOrgSettingsUseCase {
  constructor(
    @Inject(ORG_SETTINGS_REPOSITORY) private readonly settings: OrgSettingsRepository,
    private readonly current: GetOrgSettingsUseCase,
  ) {}

  async execute(command: UpdateOrgSettingsCommand): Promise<OrgSettings> {
    if (command.willOnRevoke === undefined) return this.current.execute({ orgId: command.orgId });
    const saved = await this.settings.save(command.orgId, { willOnRevoke: command.willOnRevoke });
    // The key's org was deleted after its verdict was cached (as for POST /v1/tokens).
    if (!saved) throw orgOfKeyGone();
    return saved;
  }
}
