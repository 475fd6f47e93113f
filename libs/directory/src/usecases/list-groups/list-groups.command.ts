/** GET /v1/directory/groups: the org's directory groups (SCIM- and LDAP-sourced), newest first. */
export interface ListGroupsCommand {
  orgId: string;
  limit?: number;
  cursor?: string;
}
