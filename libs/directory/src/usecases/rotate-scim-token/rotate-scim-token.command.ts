/** POST /v1/directory/scim-token: a new SCIM bearer token for the caller's org, replacing any former one. */
export interface RotateScimTokenCommand {
  orgId: string;
}
