/**
 * MQTT topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7).
 *
 * Functions return `null` when the input is valid and a short reason when it
 * is not, so callers can map the reason to their own transport's error.
 */

/** Longest UTF-8 string MQTT can carry [MQTT-1.5.3-1]. */
export const MAX_TOPIC_BYTES = 65535;

export type TopicProblem =
  | 'empty'
  | 'too_long'
  | 'null_character'
  | 'wildcard_in_topic_name'
  | 'misplaced_multi_level_wildcard'
  | 'misplaced_single_level_wildcard';

function basicProblem(value: string): TopicProblem | null {
  // [MQTT-4.7.3-1] topic names and filters are at least one character long.
  if (value.length === 0) return 'empty';
  if (Buffer.byteLength(value, 'utf8') > MAX_TOPIC_BYTES) return 'too_long';
  // [MQTT-4.7.3-2] no U+0000.
  if (value.includes('\u0000')) return 'null_character';
  return null;
}

/** A topic name, as used in PUBLISH: no wildcards [MQTT-4.7.1-1]. */
export function topicNameProblem(topic: string): TopicProblem | null {
  const basic = basicProblem(topic);
  if (basic) return basic;
  if (topic.includes('+') || topic.includes('#')) return 'wildcard_in_topic_name';
  return null;
}

/**
 * A topic filter, as used in SUBSCRIBE: `#` only alone as the last level
 * [MQTT-4.7.1-2], `+` only alone in its level [MQTT-4.7.1-3].
 */
export function topicFilterProblem(filter: string): TopicProblem | null {
  const basic = basicProblem(filter);
  if (basic) return basic;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return 'misplaced_multi_level_wildcard';
    }
    if (level.includes('+') && level !== '+') return 'misplaced_single_level_wildcard';
  }
  return null;
}

/**
 * Does `filter` match `topic`? Both must already be valid. Wildcards at the
 * first level never match a topic that starts with `$` [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic.split('/'));
}

/** {@link topicMatches} on pre-split levels, for callers that match one topic against many filters. */
export function levelsMatch(filter: readonly string[], topic: readonly string[]): boolean {
  if (topic[0]?.startsWith('$') && (filter[0] === '+' || filter[0] === '#')) return false;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i];
    // `#` also matches the parent level: `a/#` matches `a` [MQTT-4.7.1-2].
    if (f === '#') return true;
    if (i >= topic.length) return false;
    if (f !== '+' && f !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

/**
 * Is every topic matched by `requested` also matched by `allowed`? Used to
 * decide whether a subscription stays inside a permission: `users/u1/#`
 * covers `users/u1/+/x`, but `#` is not covered by `users/u1/#`.
 */
export function filterCovers(allowed: readonly string[], requested: readonly string[]): boolean {
  const dollar = requested[0]?.startsWith('$');
  for (let i = 0; i < allowed.length; i++) {
    const a = allowed[i];
    if (a === '#') return !(i === 0 && dollar);
    if (i >= requested.length) return false;
    const r = requested[i];
    if (r === '#') return false;
    if (a === '+') {
      if (i === 0 && dollar) return false;
      continue;
    }
    if (r === '+' || r !== a) return false;
  }
  return allowed.length === requested.length;
}
