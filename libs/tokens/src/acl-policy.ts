import { expandTemplate, filterCovers, levelsMatch, Permissions, PlaceholderValues } from '@signet/permissions';

export type AclAction = 'publish' | 'subscribe';
export const ACL_ACTIONS: readonly AclAction[] = ['publish', 'subscribe'];

/** The first granted template that allows the topic, as written (placeholders unfilled), or null. */
export function allowingRule(permissions: Readonly<Permissions>, values: PlaceholderValues, action: AclAction, topic: string): string | null {
  const requested = topic.split('/');
  const templates = action === 'publish' ? permissions.publish : permissions.subscribe;
  for (const template of templates) {
    // As the edge does (PermissionSet.fromTemplates): a rule whose placeholder cannot be filled safely is dropped.
    const filter = expandTemplate(template, values);
    if (filter === null) continue;
    const granted = filter.split('/');
    if (action === 'publish' ? levelsMatch(granted, requested) : filterCovers(granted, requested)) return template;
  }
  return null;
}
