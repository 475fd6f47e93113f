/** MQTT topic matching for the Aedes hooks (the same rules the edge and Mosquitto apply). */

/** Does `filter` match the topic name `topic`? `$` topics are not matched by a leading wildcard. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is every topic the subscription filter `wanted` can match also matched by the grant `granted`? */
export function filterCovers(granted: string, wanted: string): boolean {
  const g = granted.split('/');
  const w = wanted.split('/');
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '#') return true;
    if (i >= w.length) return false;
    if (w[i] === '#') return false;
    if (g[i] === '+') continue;
    if (g[i] !== w[i]) return false;
  }
  return g.length === w.length;
}

/** Fills `{user_id}` placeholders, dropping a rule whose value could widen it (as the edge does). */
export function expandGrants(filters: readonly string[], userId: string): string[] {
  if (/[/+#]/.test(userId) || userId.startsWith('$')) return filters.filter((f) => !f.includes('{user_id}'));
  return filters.map((f) => f.split('{user_id}').join(userId));
}
