/** A SCIM request on /scim/v2/Users, for the org the bearer token belongs to. */
export interface ScimUsersCommand {
  orgId: string;
  /** The `/scim/v2` URL the IdP called, for `meta.location`. */
  baseUrl: string;
}

export interface ScimListCommand extends ScimUsersCommand {
  filter?: string;
  startIndex?: string;
  count?: string;
}

export interface ScimWriteCommand extends ScimUsersCommand {
  id: string;
  body: unknown;
  /** The If-Match header, when sent. */
  ifMatch?: string;
}
