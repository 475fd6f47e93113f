// /scim/v2/Groups takes the same commands as /Users.
export type { ScimListCommand, ScimUsersCommand as ScimGroupsCommand, ScimWriteCommand } from '../scim-users/scim-users.command';
