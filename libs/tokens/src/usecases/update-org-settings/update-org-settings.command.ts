import type { WillPolicy } from '@signet/credentials';

/** PATCH /v1/org/settings: the fields given replace the stored ones; omitted ones stay. */
export interface UpdateOrgSettingsCommand {
  orgId: string;
  willOnRevoke?: WillPolicy;
}
