import type { UnknownUserPolicy } from '../../directory.repository';

/** PATCH /v1/directory/settings. */
export interface UpdateDirectorySettingsCommand {
  orgId: string;
  unknownUsers: UnknownUserPolicy;
}
