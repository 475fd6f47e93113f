/** GET /v1/org/settings. */
export interface GetOrgSettingsCommand {
  orgId: string;
}
