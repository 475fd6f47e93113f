/** PUT /v1/directory/groups/{id}/permissions: the topic filters the group's members' tokens may carry. */
export interface SetGroupPermissionsCommand {
  orgId: string;
  groupId: string;
  publish: string[];
  subscribe: string[];
}
