import type { QoS } from 'mqtt-packet';
import type { Message, SubscriptionOptions } from './message';
import { RetainedStore, SubscriptionTree } from './topic-tree';

const opts = (qos: QoS, nl = false): SubscriptionOptions => ({ qos, nl, rap: false, rh: 0, ids: null });
const msg = (topic: string, payload = 'x'): Message => ({
  topic,
  payload: Buffer.from(payload),
  qos: 0,
  retain: true,
  properties: undefined,
  expiresAt: Infinity,
});

function matches(tree: SubscriptionTree<string>, topic: string, skip: string | null = null): Record<string, QoS> {
  const out = new Map<string, SubscriptionOptions>();
  tree.match(topic, skip, out);
  return Object.fromEntries([...out].map(([k, v]) => [k, v.qos]));
}

describe('SubscriptionTree', () => {
  it('matches exact, + and # filters, # also matching the parent level', () => {
    const t = new SubscriptionTree<string>();
    t.add('a/b/c', 'exact', opts(0));
    t.add('a/+/c', 'plus', opts(0));
    t.add('a/#', 'hash', opts(0));
    t.add('#', 'all', opts(0));
    t.add('+/+', 'two', opts(0));
    t.add('a/b', 'ab', opts(0));
    expect(matches(t, 'a/b/c')).toEqual({ exact: 0, plus: 0, hash: 0, all: 0 });
    expect(matches(t, 'a')).toEqual({ hash: 0, all: 0 });
    expect(matches(t, 'a/b')).toEqual({ hash: 0, all: 0, two: 0, ab: 0 });
    expect(matches(t, 'x/y/z')).toEqual({ all: 0 });
    expect(matches(t, 'a//c')).toEqual({ plus: 0, hash: 0, all: 0 });
  });

  it('never matches $ topics with a first-level wildcard [MQTT-4.7.2-1]', () => {
    const t = new SubscriptionTree<string>();
    t.add('#', 'all', opts(0));
    t.add('+/x', 'plus', opts(0));
    t.add('$SYS/#', 'sys', opts(0));
    t.add('$SYS/+', 'sysplus', opts(0));
    expect(matches(t, '$SYS/x')).toEqual({ sys: 0, sysplus: 0 });
    expect(matches(t, 'a/x')).toEqual({ all: 0, plus: 0 });
  });

  it('gives each subscriber one match at its highest QoS [MQTT-3.3.5-1], and skips No Local', () => {
    const t = new SubscriptionTree<string>();
    t.add('a/#', 's', opts(0));
    t.add('a/+', 's', opts(2));
    t.add('a/b', 's', opts(1));
    t.add('a/b', 'me', opts(1, true));
    expect(matches(t, 'a/b')).toEqual({ s: 2, me: 1 });
    expect(matches(t, 'a/b', 'me')).toEqual({ s: 2 });
  });

  it('replaces, removes and prunes', () => {
    const t = new SubscriptionTree<string>();
    t.add('a/b', 's', opts(0));
    t.add('a/b', 's', opts(1));
    expect(t.size).toBe(1);
    expect(matches(t, 'a/b')).toEqual({ s: 1 });
    expect(t.remove('a/b', 's')).toBe(true);
    expect(t.remove('a/b', 's')).toBe(false);
    expect(t.size).toBe(0);
    expect(matches(t, 'a/b')).toEqual({});
    expect((t as unknown as { root: { children: unknown } }).root.children).toBeNull();
  });

  it('keeps what a topic matched until the tree changes, leaving an earlier result as it was', () => {
    const t = new SubscriptionTree<string>();
    const all = (topic: string) => Object.fromEntries([...t.matchAll(topic)].map(([k, v]) => [k, v.qos]));
    expect(all('a/b')).toEqual({});
    t.add('a/+', 's', opts(0));
    const before = t.matchAll('a/b');
    expect(t.matchAll('a/b')).toBe(before);
    t.add('a/b', 's', opts(2));
    expect(all('a/b')).toEqual({ s: 2 });
    t.add('#', 'n', opts(1, true));
    expect(all('a/b')).toEqual({ s: 2, n: 1 });
    expect(t.remove('a/+', 's')).toBe(true);
    expect(t.remove('a/b', 's')).toBe(true);
    expect(all('a/b')).toEqual({ n: 1 });
    expect(Object.fromEntries([...before].map(([k, v]) => [k, v.qos]))).toEqual({ s: 0 });
    for (let i = 0; i < 5000; i++) t.matchAll(`x/${i}`);
    expect(all('a/b')).toEqual({ n: 1 });
  });

  it('does not keep a match of many subscribers (a fan-out to ever new topics would grow without bound)', () => {
    const t = new SubscriptionTree<string>();
    for (let i = 0; i < 65; i++) t.add('alerts/#', `s${i}`, opts(0));
    const first = t.matchAll('alerts/1');
    expect(first.size).toBe(65);
    expect(t.matchAll('alerts/1')).not.toBe(first);
    expect(t.remove('alerts/#', 's0')).toBe(true);
    expect(t.matchAll('alerts/1')).toBe(t.matchAll('alerts/1'));
  });
});

describe('RetainedStore', () => {
  const topics = (store: RetainedStore, filter: string): string[] => {
    const out: string[] = [];
    store.match(filter, (m) => out.push(m.topic));
    return out.sort();
  };

  it('matches filters with + and #, excluding $ topics at the first level', () => {
    const s = new RetainedStore();
    for (const t of ['a', 'a/b', 'a/b/c', 'a/x/c', 'b', '$SYS/up']) s.set(msg(t), 100);
    expect(topics(s, '#')).toEqual(['a', 'a/b', 'a/b/c', 'a/x/c', 'b']);
    expect(topics(s, 'a/#')).toEqual(['a', 'a/b', 'a/b/c', 'a/x/c']);
    expect(topics(s, 'a/+/c')).toEqual(['a/b/c', 'a/x/c']);
    expect(topics(s, '+')).toEqual(['a', 'b']);
    expect(topics(s, '$SYS/#')).toEqual(['$SYS/up']);
    expect(topics(s, 'a/b')).toEqual(['a/b']);
  });

  it('replaces per topic, clears with an empty payload [MQTT-3.3.1-10], and enforces its limit', () => {
    const s = new RetainedStore();
    s.set(msg('a', '1'), 2);
    s.set(msg('a', '2'), 2);
    expect(s.size).toBe(1);
    s.set(msg('b'), 2);
    expect(s.set(msg('c'), 2)).toBe(false);
    expect(s.set(msg('a', '3'), 2)).toBe(true); // replacing is allowed at the limit
    s.set(msg('a', ''), 2);
    expect(s.size).toBe(1);
    expect(topics(s, '#')).toEqual(['b']);
  });
});
