import { Inject, Injectable } from '@nestjs/common';

import { DEFAULT_WILL_POLICY } from '@signet/credentials';

import { ORG_SETTINGS_REPOSITORY, OrgSettings, OrgSettingsRepository } from '../../org-settings.repository';
import type { GetOrgSettingsCommand } from './get-org-settings.command';

/** GET /v1/org/settings: the stored settings, or the defaults until changed. */
@Injectable()
export class GetOrgSettingsUseCase {
  constructor(@Inject(ORG_SETTINGS_REPOSITORY) private readonly settings: OrgSettingsRepository) {}

  async execute(command: GetOrgSettingsCommand): Promise<OrgSettings> {
    return (await this.settings.find(command.orgId)) ?? { willOnRevoke: DEFAULT_WILL_POLICY };
  }
}
