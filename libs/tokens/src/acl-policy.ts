import { allowingGrant, Permissions, PlaceholderValues } from '@signet/permissions';

export type AclAction = 'publish' | 'subscribe';
export const ACL_ACTIONS: readonly AclAction[] = ['publish', 'subscribe'];

/** The first granted template that allows the topic, as written (placeholders unfilled), or null. */
export function allowingRule(permissions: Readonly<Permissions>, values: PlaceholderValues, action: AclAction, topic: string): string | null {
  return allowingGrant(permissions, values, action, topic)?.rule ?? null;
}
