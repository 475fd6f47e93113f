import type { Message, SubscriptionOptions } from './message';

interface SubNode<S> {
  children: Map<string, SubNode<S>> | null;
  subs: Map<S, SubscriptionOptions> | null;
}

/** Topics whose match one tree keeps (SubscriptionTree.matchAll). */
const MATCH_CACHE_LIMIT = 2048;
/**
 * Larger matches are not kept: with many subscribers the deliveries cost far more than the walk, and
 * kept copies of them (a fan-out to many distinct topics) would cost memory without bound.
 */
const MATCH_CACHE_MAX_SUBSCRIBERS = 64;
const NONE = new Map<unknown, SubscriptionOptions>();

function newSubNode<S>(): SubNode<S> {
  return { children: null, subs: null };
}

/**
 * One org's subscriptions, as a trie over topic levels. A PUBLISH walks only
 * the branches its levels, `+` and `#` lead to, so matching cost follows the
 * topic's depth, not the number of subscriptions. Wildcards at the first
 * level never match a `$` topic [MQTT-4.7.2-1].
 *
 * Results are de-duplicated per subscriber keeping the highest QoS, as a
 * client with overlapping subscriptions gets one copy [MQTT-3.3.5-1].
 */
export class SubscriptionTree<S> {
  private readonly root: SubNode<S> = newSubNode();
  private count = 0;
  /**
   * What each recently published topic matched, nobody skipped: a topic published again costs one lookup,
   * not a walk. Dropped whole (not cleared) on any change, so a result being iterated is never altered.
   */
  private cache: Map<string, ReadonlyMap<S, SubscriptionOptions>> | null = null;

  get size(): number {
    return this.count;
  }

  add(filter: string, subscriber: S, options: SubscriptionOptions): void {
    let node = this.root;
    for (const level of filter.split('/')) {
      if (node.children === null) node.children = new Map();
      let next = node.children.get(level);
      if (next === undefined) {
        next = newSubNode();
        node.children.set(level, next);
      }
      node = next;
    }
    if (node.subs === null) node.subs = new Map();
    if (!node.subs.has(subscriber)) this.count++;
    node.subs.set(subscriber, options);
    this.cache = null;
  }

  remove(filter: string, subscriber: S): boolean {
    const levels = filter.split('/');
    const path: SubNode<S>[] = [this.root];
    let node = this.root;
    for (const level of levels) {
      const next = node.children?.get(level);
      if (next === undefined) return false;
      path.push(next);
      node = next;
    }
    if (node.subs === null || !node.subs.delete(subscriber)) return false;
    this.count--;
    this.cache = null;
    if (node.subs.size === 0) node.subs = null;
    // Prune empty branches so churn does not grow the trie.
    for (let i = levels.length; i > 0; i--) {
      const n = path[i];
      if (n.subs !== null || (n.children !== null && n.children.size > 0)) break;
      const parent = path[i - 1];
      parent.children!.delete(levels[i - 1]);
      if (parent.children!.size === 0) parent.children = null;
    }
    return true;
  }

  /**
   * The subscribers of `topic`, nobody skipped, as match() collects them: cached until the tree changes
   * (read it, never change it; a later add or remove leaves it as it was).
   */
  matchAll(topic: string): ReadonlyMap<S, SubscriptionOptions> {
    let cache = this.cache;
    if (cache === null) cache = this.cache = new Map();
    let found = cache.get(topic);
    if (found === undefined) {
      const out = new Map<S, SubscriptionOptions>();
      this.match(topic, null, out);
      // Bounded: topics that are never published twice (an id per message) must not grow it without end.
      found = out.size === 0 ? (NONE as Map<S, SubscriptionOptions>) : out;
      if (out.size <= MATCH_CACHE_MAX_SUBSCRIBERS) {
        if (cache.size >= MATCH_CACHE_LIMIT) cache.clear();
        cache.set(topic, found);
      }
    }
    return found;
  }

  /**
   * Collects the subscribers of `topic` into `out` (cleared by the caller).
   * `skip`: the publisher, for No Local subscriptions [MQTT-3.8.3-3].
   */
  match(topic: string, skip: S | null, out: Map<S, SubscriptionOptions>): void {
    const levels = topic.split('/');
    this.walk(this.root, levels, 0, levels[0].charCodeAt(0) === 36 /* $ */, skip, out);
  }

  private walk(
    node: SubNode<S>,
    levels: string[],
    i: number,
    dollar: boolean,
    skip: S | null,
    out: Map<S, SubscriptionOptions>,
  ): void {
    const children = node.children;
    if (i === levels.length) {
      collect(node.subs, skip, out);
      // `a/#` also matches `a` [MQTT-4.7.1-2].
      if (children !== null) {
        const hash = children.get('#');
        if (hash !== undefined) collect(hash.subs, skip, out);
      }
      return;
    }
    if (children === null) return;
    const exact = children.get(levels[i]);
    if (exact !== undefined) this.walk(exact, levels, i + 1, dollar, skip, out);
    if (i === 0 && dollar) return;
    const plus = children.get('+');
    if (plus !== undefined) this.walk(plus, levels, i + 1, dollar, skip, out);
    const hash = children.get('#');
    if (hash !== undefined) collect(hash.subs, skip, out);
  }
}

function collect<S>(
  subs: Map<S, SubscriptionOptions> | null,
  skip: S | null,
  out: Map<S, SubscriptionOptions>,
): void {
  if (subs === null) return;
  for (const [subscriber, options] of subs) {
    if (options.nl && subscriber === skip) continue;
    const prev = out.get(subscriber);
    out.set(subscriber, prev === undefined ? options : mergeOptions(prev, options));
  }
}

/**
 * The options one delivery to a subscriber with two matching subscriptions uses: the higher QoS (Retain
 * As Published on a tie), with the identifiers of both [MQTT-3.3.4-4].
 */
export function mergeOptions(prev: SubscriptionOptions, options: SubscriptionOptions): SubscriptionOptions {
  const better = options.qos > prev.qos || (options.qos === prev.qos && options.rap && !prev.rap);
  if (prev.ids === null && options.ids === null) return better ? options : prev;
  // Only overlapping subscriptions with identifiers get here, so the merged object is rare.
  const ids = prev.ids === null ? options.ids : options.ids === null ? prev.ids : prev.ids.concat(options.ids);
  return { ...(better ? options : prev), ids };
}

interface RetainedNode {
  children: Map<string, RetainedNode> | null;
  message: Message | null;
}

/**
 * One org's retained messages, as a trie so a wildcard SUBSCRIBE visits only
 * the matching branches. At most one message per topic [MQTT-3.3.1-5].
 */
export class RetainedStore {
  private readonly root: RetainedNode = { children: null, message: null };
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Stores (or, for an empty payload, clears [MQTT-3.3.1-10]) the retained
   * message of its topic. Returns false when a new topic would exceed `limit`.
   */
  set(message: Message, limit: number): boolean {
    const levels = message.topic.split('/');
    if (message.payload.length === 0) {
      this.clear(levels);
      return true;
    }
    if (this.count >= limit && this.find(levels) === null) return false;
    let node = this.root;
    for (const level of levels) {
      let next = node.children?.get(level);
      if (next === undefined) {
        if (node.children === null) node.children = new Map();
        next = { children: null, message: null };
        node.children.set(level, next);
      }
      node = next;
    }
    if (node.message === null) this.count++;
    node.message = message;
    return true;
  }

  private find(levels: string[]): Message | null {
    let node: RetainedNode | undefined = this.root;
    for (const level of levels) {
      node = node.children?.get(level);
      if (node === undefined) return null;
    }
    return node.message;
  }

  private clear(levels: string[]): void {
    const path: RetainedNode[] = [this.root];
    let node = this.root;
    for (const level of levels) {
      const next = node.children?.get(level);
      if (next === undefined) return;
      path.push(next);
      node = next;
    }
    if (node.message === null) return;
    node.message = null;
    this.count--;
    for (let i = levels.length; i > 0; i--) {
      const n = path[i];
      if (n.message !== null || (n.children !== null && n.children.size > 0)) break;
      const parent = path[i - 1];
      parent.children!.delete(levels[i - 1]);
      if (parent.children!.size === 0) parent.children = null;
    }
  }

  /** Calls `each` for every retained message matched by a (valid) filter. */
  match(filter: string, each: (message: Message) => void): void {
    this.walk(this.root, filter.split('/'), 0, each);
  }

  private walk(node: RetainedNode, levels: string[], i: number, each: (message: Message) => void): void {
    if (i === levels.length) {
      if (node.message !== null) each(node.message);
      return;
    }
    const level = levels[i];
    if (level === '#') {
      // `a/#` matches `a` too [MQTT-4.7.1-2]; at the root, not `$` topics [MQTT-4.7.2-1].
      if (i > 0 && node.message !== null) each(node.message);
      this.all(node, i === 0, each);
      return;
    }
    const children = node.children;
    if (children === null) return;
    if (level === '+') {
      for (const [name, child] of children) {
        if (i === 0 && name.charCodeAt(0) === 36) continue;
        this.walk(child, levels, i + 1, each);
      }
      return;
    }
    const child = children.get(level);
    if (child !== undefined) this.walk(child, levels, i + 1, each);
  }

  private all(node: RetainedNode, atRoot: boolean, each: (message: Message) => void): void {
    if (node.children === null) return;
    for (const [name, child] of node.children) {
      if (atRoot && name.charCodeAt(0) === 36) continue;
      if (child.message !== null) each(child.message);
      this.all(child, false, each);
    }
  }
}
