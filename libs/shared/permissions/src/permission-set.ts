import { expandTemplate, PlaceholderValues } from './placeholders';
import { filterCovers, levelsMatch } from './topic';

/** Publish and subscribe grants, as topic filters (possibly with placeholders). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** The default grant when a token request names none. */
export const DEFAULT_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  publish: ['users/{user_id}/#'],
  subscribe: ['users/{user_id}/#'],
});

const CACHE_LIMIT = 256;

/**
 * The compiled, placeholder-free permissions of one connection. Built once
 * per CONNECT; `canPublish` runs per PUBLISH, so it keeps a small cache of
 * recent topic verdicts and splits each filter only once.
 */
export class PermissionSet {
  private readonly publishFilters: string[][];
  private readonly subscribeFilters: string[][];
  private readonly publishCache = new Map<string, boolean>();

  constructor(readonly granted: Readonly<Permissions>) {
    this.publishFilters = granted.publish.map((f) => f.split('/'));
    this.subscribeFilters = granted.subscribe.map((f) => f.split('/'));
  }

  /** Expands templates with the connection's values; rules that cannot be filled safely are dropped. */
  static fromTemplates(templates: Readonly<Permissions>, values: PlaceholderValues): PermissionSet {
    const expand = (list: readonly string[]) =>
      list.map((t) => expandTemplate(t, values)).filter((f): f is string => f !== null);
    return new PermissionSet({ publish: expand(templates.publish), subscribe: expand(templates.subscribe) });
  }

  /** Full access: every topic except `$`-topics (which wildcards never match). */
  static all(): PermissionSet {
    return new PermissionSet({ publish: ['#'], subscribe: ['#'] });
  }

  canPublish(topic: string): boolean {
    const cached = this.publishCache.get(topic);
    if (cached !== undefined) return cached;
    const levels = topic.split('/');
    const verdict = this.publishFilters.some((f) => levelsMatch(f, levels));
    if (this.publishCache.size >= CACHE_LIMIT) this.publishCache.clear();
    this.publishCache.set(topic, verdict);
    return verdict;
  }

  /** A subscription is allowed when one granted filter covers all it can match. */
  canSubscribe(filter: string): boolean {
    const levels = filter.split('/');
    return this.subscribeFilters.some((f) => filterCovers(f, levels));
  }

}

/** A grant that allows an action: the template as written, and as filled for the connection. */
export interface AllowingGrant {
  rule: string;
  filled: string;
}

/**
 * Which grant allows publishing to `topic` (or subscribing to the filter), filled and matched as the edge
 * does at CONNECT (a rule whose placeholder cannot be filled safely is dropped); null: denied. For
 * `signet acl check` and `POST /v1/acl/check`, not the packet path.
 */
export function allowingGrant(templates: Readonly<Permissions>, values: PlaceholderValues, action: 'publish' | 'subscribe', topic: string): AllowingGrant | null {
  const requested = topic.split('/');
  for (const rule of action === 'publish' ? templates.publish : templates.subscribe) {
    const filled = expandTemplate(rule, values);
    if (filled === null) continue;
    const granted = filled.split('/');
    if (action === 'publish' ? levelsMatch(granted, requested) : filterCovers(granted, requested)) return { rule, filled };
  }
  return null;
}
