import type { AclAction } from '../../acl-policy';

/** Is `topic` allowed for `action` to a user's live tokens, or to one token? Exactly one of userId, token. */
export interface CheckAclCommand {
  orgId: string;
  userId?: string;
  token?: string;
  /** The MQTT client id of the connection, for templates naming `{client_id}` (a token bound to one uses its own). */
  clientId?: string;
  action: AclAction;
  topic: string;
}
