/**
 * The contract every ClusterBus implementation meets, run against the in-process bus (unit) and the Redis
 * bus on the machine's real Redis (integration): routes, inboxes, client-id claims, leases, and the shared retained messages and sessions where the engine keeps them.
 */
import { SESSION_STORE_EDGE, type ClaimResult, type ClusterBus, type ClusterMessage, type ClusterNode, type SessionDirectory, type SessionRecord } from '../types';

export interface ClusterHarness {
  /** A bus for a new edge of the same cluster (not started). */
  bus(edgeId: string): ClusterBus;
  /** The lease the harness' buses use (short, so expiry is testable). */
  leaseMs: number;
  /** The session registry of this cluster as the API reads it. */
  sessions: SessionDirectory;
  close(): Promise<void>;
}

type Event =
  | { kind: 'deliver'; orgId: string; message: ClusterMessage }
  | { kind: 'route'; edgeId: string; orgId: string; filter: string; present: boolean }
  | { kind: 'gone'; edgeId: string }
  | { kind: 'takeover'; orgId: string; clientId: string; epoch: number }
  | { kind: 'rejoined' }
  | { kind: 'kick'; orgId: string; clientId: string }
  | { kind: 'durable'; orgId: string; clientId: string; ref: string; qos: 1 | 2; message: ClusterMessage };

class RecordingNode implements ClusterNode {
  readonly events: Event[] = [];
  /** The route table as this node mirrors it: `edge org filter`. */
  readonly routes = new Set<string>();
  deliver(orgId: string, message: ClusterMessage): void {
    this.events.push({ kind: 'deliver', orgId, message });
  }
  durable(orgId: string, clientId: string, ref: string, qos: 1 | 2, message: ClusterMessage): void {
    this.events.push({ kind: 'durable', orgId, clientId, ref, qos, message });
  }
  routeChanged(edgeId: string, orgId: string, filter: string, present: boolean): void {
    this.events.push({ kind: 'route', edgeId, orgId, filter, present });
    const key = `${edgeId} ${orgId} ${filter}`;
    if (present) this.routes.add(key);
    else this.routes.delete(key);
  }
  edgeGone(edgeId: string): void {
    this.events.push({ kind: 'gone', edgeId });
    for (const key of [...this.routes]) if (key.startsWith(`${edgeId} `)) this.routes.delete(key);
  }
  takenOver(orgId: string, clientId: string, epoch: number): void {
    this.events.push({ kind: 'takeover', orgId, clientId, epoch });
  }
  rejoined(): void {
    this.events.push({ kind: 'rejoined' });
  }
  kick(orgId: string, clientId: string): void {
    this.events.push({ kind: 'kick', orgId, clientId });
  }
  of<K extends Event['kind']>(kind: K): Extract<Event, { kind: K }>[] {
    return this.events.filter((e): e is Extract<Event, { kind: K }> => e.kind === kind);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const record = (edgeId: string, clientId: string, userId: string): SessionRecord => ({
  clientId,
  userId,
  username: `${userId}@org_1`,
  credentialKind: 'token',
  credentialId: `tok_${userId}`,
  edgeId,
  address: '127.0.0.1',
  transport: 'tcp',
  protocolVersion: 5,
  connectedAt: 1_700_000_000_000,
});

const epochOf = (result: ClaimResult): number => {
  if (!result.ok) throw new Error('claim refused');
  return result.epoch;
};

export function clusterBusConformance(name: string, harness: () => Promise<ClusterHarness>): void {
  describe(`ClusterBus conformance: ${name}`, () => {
    let cluster: ClusterHarness;
    const buses: ClusterBus[] = [];

    async function join(edgeId: string): Promise<{ bus: ClusterBus; node: RecordingNode }> {
      const bus = cluster.bus(edgeId);
      const node = new RecordingNode();
      await bus.start(node);
      buses.push(bus);
      return { bus, node };
    }

    /** Edge a with a route b has heard and a claimed client id, then taken out of the cleanup (the test stops it). */
    async function edgeWithRouteAndClaim(): Promise<{ a: { bus: ClusterBus; node: RecordingNode }; b: { bus: ClusterBus; node: RecordingNode } }> {
      const a = await join('edge-a');
      const b = await join('edge-b');
      a.bus.setRoute('org_1', 'x/#', true);
      await until(() => b.node.routes.size === 1, 'route on b');
      epochOf(await a.bus.claim('org_1', 'dev-1', 'token:alice'));
      buses.splice(buses.indexOf(a.bus), 1);
      return { a, b };
    }

    beforeEach(async () => {
      cluster = await harness();
    });
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.close()));
      await cluster.close();
    });

    it('announces routes to the other edges, replays them to an edge that joins later, and withdraws them', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      a.bus.setRoute('org_1', 'sensors/+/temp', true);
      a.bus.setRoute('org_2', '#', true);
      await until(() => b.node.routes.size === 2, 'routes on b');
      expect([...b.node.routes].sort()).toEqual(['edge-a org_1 sensors/+/temp', 'edge-a org_2 #']);
      // The announcing edge does not hear itself.
      expect(a.node.of('route')).toEqual([]);
      const c = await join('edge-c');
      expect([...c.node.routes].sort()).toEqual(['edge-a org_1 sensors/+/temp', 'edge-a org_2 #']);
      a.bus.setRoute('org_2', '#', false);
      await until(() => b.node.routes.size === 1 && c.node.routes.size === 1, 'withdrawal');
      expect([...c.node.routes]).toEqual(['edge-a org_1 sensors/+/temp']);
    });

    it('sends a message to one edge inbox only, payload and properties intact', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const c = await join('edge-c');
      const message: ClusterMessage = {
        topic: 'a/b',
        payload: Buffer.from([0, 1, 2, 255]),
        qos: 1,
        retain: true,
        properties: { correlationData: Buffer.from('corr'), userProperties: { k: ['v1', 'v2'] }, contentType: 'bin' },
        ttlMs: 5000,
      };
      a.bus.send('edge-b', 'org_1', message);
      a.bus.send('edge-b', 'org_1', { topic: 'a/c', payload: Buffer.alloc(0), qos: 0, retain: false });
      await until(() => b.node.of('deliver').length === 2, 'deliveries on b');
      const [first, second] = b.node.of('deliver');
      expect(first.orgId).toBe('org_1');
      expect(first.message.topic).toBe('a/b');
      expect(Buffer.compare(first.message.payload, message.payload)).toBe(0);
      expect(first.message.qos).toBe(1);
      expect(first.message.retain).toBe(true);
      expect(first.message.ttlMs).toBe(5000);
      expect(Buffer.isBuffer(first.message.properties?.['correlationData'])).toBe(true);
      expect((first.message.properties?.['correlationData'] as Buffer).toString()).toBe('corr');
      expect(first.message.properties?.['userProperties']).toEqual({ k: ['v1', 'v2'] });
      expect(second.message).toMatchObject({ topic: 'a/c', qos: 0, retain: false });
      expect(second.message.payload.length).toBe(0);
      expect(second.message.ttlMs).toBeUndefined();
      await sleep(50);
      expect(c.node.of('deliver')).toEqual([]);
      expect(a.node.of('deliver')).toEqual([]);
    });

    it('claims a client id atomically with growing epochs; the same owner takes over, another is refused', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const first = epochOf(await a.bus.claim('org_1', 'dev-1', 'token:alice'));
      // Another owner, on any edge, while alice's connection holds it.
      expect(await b.bus.claim('org_1', 'dev-1', 'token:mallory')).toEqual({ ok: false });
      expect(await a.bus.claim('org_1', 'dev-1', 'token:mallory')).toEqual({ ok: false });
      // Without takeover (a claim made again after a lost lease) another live edge's is refused, even to its owner.
      expect(await b.bus.claim('org_1', 'dev-1', 'token:alice', { takeover: false })).toEqual({ ok: false });
      expect((await a.bus.claim('org_1', 'dev-1', 'token:alice', { takeover: false })).ok).toBe(true);
      // The same client id in another org is another id.
      expect((await b.bus.claim('org_2', 'dev-1', 'token:mallory')).ok).toBe(true);
      const second = epochOf(await b.bus.claim('org_1', 'dev-1', 'token:alice'));
      expect(second).toBeGreaterThan(first);
      await until(() => a.node.of('takeover').length === 1, 'takeover on a');
      expect(a.node.of('takeover')[0]).toEqual({ kind: 'takeover', orgId: 'org_1', clientId: 'dev-1', epoch: second });
      expect(b.node.of('takeover')).toEqual([]);
      // A's connection goes: its release carries the old epoch and is fenced off.
      a.bus.release('org_1', 'dev-1', first);
      await sleep(50);
      expect(await a.bus.claim('org_1', 'dev-1', 'token:mallory')).toEqual({ ok: false });
      b.bus.release('org_1', 'dev-1', second);
      // Released (fire and forget, so polled): free for anyone.
      const start = Date.now();
      let freed = await a.bus.claim('org_1', 'dev-1', 'token:mallory');
      while (!freed.ok && Date.now() - start < 2000) {
        await sleep(10);
        freed = await a.bus.claim('org_1', 'dev-1', 'token:mallory');
      }
      expect(freed.ok).toBe(true);
    });

    it('a closing edge leaves at once: routes gone and client ids free everywhere', async () => {
      const { a, b } = await edgeWithRouteAndClaim();
      await a.bus.close();
      await until(() => b.node.of('gone').length === 1, 'gone on b');
      expect(b.node.of('gone')[0].edgeId).toBe('edge-a');
      expect(b.node.routes.size).toBe(0);
      expect((await b.bus.claim('org_1', 'dev-1', 'token:mallory')).ok).toBe(true);
    });

    it('an edge restarted under its id (before its lease ran out) starts clean', async () => {
      const { a, b } = await edgeWithRouteAndClaim();
      await a.bus.close({ release: false });
      const again = await join('edge-a');
      await until(() => b.node.routes.size === 0, 'stale routes dropped');
      expect((await b.bus.claim('org_1', 'dev-1', 'token:mallory')).ok).toBe(true);
      again.bus.setRoute('org_1', 'y', true);
      await until(() => b.node.routes.has('edge-a org_1 y'), 'new route');
    });

    it('shares retained messages when the engine keeps them: by topic, by filter, cleared, limited, per org', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const [ra, rb] = [a.bus.retained, b.bus.retained];
      // An engine without a shared store leaves retained messages to each edge (in-process: one process).
      if (ra === undefined || rb === undefined) return expect(ra ?? rb).toBeUndefined();
      const msg = (topic: string, payload: string, ttlMs?: number): ClusterMessage => ({
        topic,
        payload: Buffer.from(payload),
        qos: 1,
        retain: true,
        ...(ttlMs !== undefined ? { ttlMs } : {}),
      });
      expect(await ra.set('org_1', msg('plant/1/temp', 'hot'), 3)).toBe(true);
      expect(await ra.set('org_1', msg('plant/2/temp', 'cold'), 3)).toBe(true);
      expect(await ra.set('org_1', msg('$SYS/x', 'sys'), 3)).toBe(true);
      expect(await ra.set('org_2', msg('plant/1/temp', 'other org'), 3)).toBe(true);
      const texts = (list: ClusterMessage[]) => list.map((m) => `${m.topic}=${m.payload.toString()}`).sort();
      expect(texts(await rb.match('org_1', 'plant/1/temp'))).toEqual(['plant/1/temp=hot']);
      expect(texts(await rb.match('org_1', 'plant/+/temp'))).toEqual(['plant/1/temp=hot', 'plant/2/temp=cold']);
      expect(texts(await rb.match('org_1', '#'))).toEqual(['plant/1/temp=hot', 'plant/2/temp=cold']);
      expect(texts(await rb.match('org_1', '$SYS/#'))).toEqual(['$SYS/x=sys']);
      expect(texts(await rb.match('org_2', '#'))).toEqual(['plant/1/temp=other org']);
      // At the limit: a new topic is refused, an existing one replaced.
      expect(await rb.set('org_1', msg('plant/3/temp', 'new'), 3)).toBe(false);
      expect(await rb.set('org_1', msg('plant/1/temp', 'warm'), 3)).toBe(true);
      expect(texts(await ra.match('org_1', 'plant/1/temp'))).toEqual(['plant/1/temp=warm']);
      // An empty payload clears it everywhere.
      expect(await rb.set('org_1', msg('plant/1/temp', ''), 3)).toBe(true);
      expect(await ra.match('org_1', 'plant/1/temp')).toEqual([]);
      // Expiry counts from the set: the time left shrinks, then the message is gone.
      expect(await ra.set('org_1', msg('plant/9', 'brief', 150), 3)).toBe(true);
      const [left] = await rb.match('org_1', 'plant/9');
      expect(left.ttlMs).toBeGreaterThan(0);
      expect(left.ttlMs).toBeLessThanOrEqual(150);
      await sleep(200);
      expect(await rb.match('org_1', 'plant/+')).toEqual([]);
    });

    it('registers sessions with their claims: listed by org, user and client id in pages, gone with release and takeover', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const ids = (page: { sessions: SessionRecord[] }) => page.sessions.map((s) => `${s.edgeId}:${s.clientId}`);
      const claimAs = (bus: ClusterBus, clientId: string, user: string) => bus.claim('org_1', clientId, `token:${user}`, { session: record(bus.edgeId, clientId, user) });
      const ea = epochOf(await claimAs(a.bus, 'c1', 'alice'));
      epochOf(await claimAs(b.bus, 'c2', 'bob'));
      epochOf(await claimAs(a.bus, 'c3', 'alice'));
      epochOf(await b.bus.claim('org_2', 'c1', 'token:alice', { session: record('edge-b', 'c1', 'alice') }));
      // A claim without an entry (a test edge, an older edge) is not listed.
      epochOf(await a.bus.claim('org_1', 'c0', 'token:carol'));
      const sessions = cluster.sessions;
      expect(ids(await sessions.list('org_1', { limit: 10 }))).toEqual(['edge-a:c1', 'edge-b:c2', 'edge-a:c3']);
      expect((await sessions.list('org_1', { limit: 10 })).sessions[0]).toEqual(record('edge-a', 'c1', 'alice'));
      const first = await sessions.list('org_1', { limit: 2 });
      expect([ids(first), first.more]).toEqual([['edge-a:c1', 'edge-b:c2'], true]);
      const second = await sessions.list('org_1', { limit: 2, after: 'c2' });
      expect([ids(second), second.more]).toEqual([['edge-a:c3'], false]);
      expect(ids(await sessions.list('org_1', { limit: 10, userId: 'alice' }))).toEqual(['edge-a:c1', 'edge-a:c3']);
      expect(ids(await sessions.list('org_1', { limit: 1, userId: 'alice' }))).toEqual(['edge-a:c1']);
      expect(ids(await sessions.list('org_1', { limit: 10, clientId: 'c2' }))).toEqual(['edge-b:c2']);
      expect(ids(await sessions.list('org_1', { limit: 10, clientId: 'nope' }))).toEqual([]);
      expect(ids(await sessions.list('org_2', { limit: 10 }))).toEqual(['edge-b:c1']);
      // Taken over on b: listed once, on b.
      epochOf(await claimAs(b.bus, 'c1', 'alice'));
      expect(ids(await sessions.list('org_1', { limit: 10, clientId: 'c1' }))).toEqual(['edge-b:c1']);
      a.bus.release('org_1', 'c1', ea); // fenced: b's entry stays
      a.bus.release('org_1', 'c3', epochOf(await claimAs(a.bus, 'c3', 'alice')));
      const start = Date.now();
      let left = ids(await sessions.list('org_1', { limit: 10 }));
      while (left.length !== 2 && Date.now() - start < 2000) {
        await sleep(10);
        left = ids(await sessions.list('org_1', { limit: 10 }));
      }
      expect(left).toEqual(['edge-b:c1', 'edge-b:c2']);
    });

    it('a kick reaches the edge that holds the client id, and only it', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      epochOf(await b.bus.claim('org_1', 'dev-9', 'token:alice', { session: record('edge-b', 'dev-9', 'alice') }));
      expect(await cluster.sessions.kick('org_1', 'dev-9')).toBe(true);
      await until(() => b.node.of('kick').length === 1, 'kick on b');
      expect(b.node.of('kick')[0]).toEqual({ kind: 'kick', orgId: 'org_1', clientId: 'dev-9' });
      expect(await cluster.sessions.kick('org_1', 'unknown')).toBe(false);
      expect(await cluster.sessions.kick('org_2', 'dev-9')).toBe(false);
      await sleep(50);
      expect(a.node.of('kick')).toEqual([]);
      expect(b.node.of('kick')).toHaveLength(1);
    });

    it('a stopped edge is reaped when its lease expires, not earlier', async () => {
      const { a, b } = await edgeWithRouteAndClaim();
      epochOf(await a.bus.claim('org_1', 'dev-2', 'token:alice', { session: record('edge-a', 'dev-2', 'alice') }));
      const stopped = Date.now();
      await a.bus.close({ release: false });
      await sleep(cluster.leaseMs / 2);
      expect(b.node.of('gone')).toEqual([]);
      expect((await cluster.sessions.list('org_1', { limit: 10 })).sessions.map((s) => s.clientId)).toEqual(['dev-2']);
      expect(b.node.routes.size).toBe(1);
      expect(await b.bus.claim('org_1', 'dev-1', 'token:mallory')).toEqual({ ok: false });
      await until(() => b.node.of('gone').length === 1, 'gone on b', cluster.leaseMs * 4);
      expect(Date.now() - stopped).toBeGreaterThanOrEqual(cluster.leaseMs * 0.6);
      expect(b.node.routes.size).toBe(0);
      expect((await b.bus.claim('org_1', 'dev-1', 'token:mallory')).ok).toBe(true);
      expect((await cluster.sessions.list('org_1', { limit: 10 })).sessions).toEqual([]);
      expect(await cluster.sessions.kick('org_1', 'dev-2')).toBe(false);
      // The stopped edge hears nothing any more.
      b.bus.send('edge-a', 'org_1', { topic: 'x/y', payload: Buffer.from('late'), qos: 0, retain: false });
      await sleep(50);
      expect(a.node.of('deliver')).toEqual([]);
    });

    const persist = { resume: true, expiryMs: 60_000, limit: 100 };
    const options = { qos: 1 as const, nl: false, rap: false, rh: 0, ids: null };
    const queued = (payload: string): ClusterMessage => ({ topic: 'x/1', payload: Buffer.from(payload), qos: 1, retain: false });
    /** A persistent claim whose session holds `credentialId` (what a revoke names). */
    const under = (credentialId: string) => ({ persist: { ...persist, credentialId } });
    const claimed = (result: ClaimResult) => {
      if (!result.ok) throw new Error('claim refused');
      return result;
    };

    it('stores sessions when the engine keeps them: queued durably, handed to the holding edge, resumed with what is unacknowledged', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const [sa, sb] = [a.bus.sessions, b.bus.sessions];
      // An engine without a shared store leaves sessions to each edge (in-process: one process).
      if (sa === undefined || sb === undefined) return expect(sa ?? sb).toBeUndefined();
      const first = claimed(await a.bus.claim('org_1', 'dev-1', 'token:alice', { persist }));
      expect(first.stored).toBeUndefined();
      sa.subscribe('org_1', 'dev-1', first.epoch, 'x/#', options);
      // The subscription is a route of the store: b mirrors it.
      await until(() => b.node.routes.has(`${SESSION_STORE_EDGE} org_1 x/#`), 'the store route on b');
      // Published on b: stored for dev-1 and handed to a, which holds the client id; nothing for other filters.
      expect([...(await sb.enqueue('org_1', queued('one'), null, ['x/#'], 100))]).toEqual(['dev-1']);
      expect([...(await sb.enqueue('org_1', queued('two'), null, ['x/#'], 100))]).toEqual(['dev-1']);
      expect([...(await sb.enqueue('org_1', queued('none'), null, ['y/#'], 100))]).toEqual([]);
      // No Local: not for the publisher's own session.
      sa.subscribe('org_1', 'dev-1', first.epoch, 'x/1', { ...options, nl: true });
      await sleep(50);
      expect([...(await sb.enqueue('org_1', queued('own'), 'dev-1', ['x/1'], 100))]).toEqual([]);
      await until(() => a.node.of('durable').length === 2, 'durable deliveries on a');
      expect(a.node.of('durable').map((e) => `${e.clientId} ${e.qos} ${e.message.payload.toString()}`)).toEqual(['dev-1 1 one', 'dev-1 1 two']);
      a.bus.release('org_1', 'dev-1', first.epoch, { expiryMs: 60_000, willHere: false });
      // Resumed on b: its subscriptions and the unacknowledged messages; one acknowledged is gone for good.
      const resumed = claimed(await b.bus.claim('org_1', 'dev-1', 'token:alice', { persist }));
      expect([...(resumed.stored?.subscriptions.keys() ?? [])].sort()).toEqual(['x/#', 'x/1']);
      expect(resumed.stored?.messages.map((m) => m.message.payload.toString())).toEqual(['one', 'two']);
      sb.ack('org_1', 'dev-1', resumed.stored!.messages[0].ref);
      b.bus.release('org_1', 'dev-1', resumed.epoch, { expiryMs: 60_000, willHere: false });
      await sleep(50); // the acknowledgement is b's to send, not awaited
      const again = claimed(await a.bus.claim('org_1', 'dev-1', 'token:alice', { persist }));
      expect(again.stored?.messages.map((m) => m.message.payload.toString())).toEqual(['two']);
      // Another owner does not resume it: it ends, and its routes with it.
      a.bus.release('org_1', 'dev-1', again.epoch, { expiryMs: 60_000, willHere: false });
      expect(claimed(await b.bus.claim('org_1', 'dev-1', 'token:mallory', { persist })).stored).toBeUndefined();
      await until(() => b.node.routes.size === 0, 'the store routes gone');
    });

    it('ends the offline stored sessions of a revoked credential, not a connected one nor one held under another since', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const [sa, sb] = [a.bus.sessions, b.bus.sessions];
      if (sa === undefined || sb === undefined) return expect(sa ?? sb).toBeUndefined();
      const park = (clientId: string, epoch: number, credentialId: string) => a.bus.release('org_1', clientId, epoch, { expiryMs: 60_000, willHere: false, credentialId });
      const offline = claimed(await a.bus.claim('org_1', 'dev-off', 'token:alice', under('tkn-1')));
      sa.subscribe('org_1', 'dev-off', offline.epoch, 'off/#', options);
      await until(() => b.node.routes.has(`${SESSION_STORE_EDGE} org_1 off/#`), 'the store route on b');
      expect([...(await sb.enqueue('org_1', queued('for-off'), null, ['off/#'], 100))]).toEqual(['dev-off']);
      park('dev-off', offline.epoch, 'tkn-1');
      const live = claimed(await a.bus.claim('org_1', 'dev-live', 'token:alice', under('tkn-1')));
      // Re-authenticated with tkn-2 before it left: the store has it under tkn-2.
      const moved = claimed(await a.bus.claim('org_1', 'dev-moved', 'token:alice', under('tkn-1')));
      park('dev-moved', moved.epoch, 'tkn-2');
      await sleep(50);

      expect(await sb.revoke(['tkn-1'])).toBe(1);
      // Every edge is told of a revocation: the second time finds nothing left to end.
      expect(await sa.revoke(['tkn-1'])).toBe(0);
      await until(() => !b.node.routes.has(`${SESSION_STORE_EDGE} org_1 off/#`), 'the revoked session’s route gone');
      expect(claimed(await b.bus.claim('org_1', 'dev-off', 'token:alice', under('tkn-3'))).stored).toBeUndefined();
      expect(claimed(await b.bus.claim('org_1', 'dev-moved', 'token:alice', under('tkn-2'))).stored).toBeDefined();
      // The connected one is its edge's to end; left alone, it is still there to resume.
      park('dev-live', live.epoch, 'tkn-1');
      await sleep(50);
      expect(claimed(await b.bus.claim('org_1', 'dev-live', 'token:alice', under('tkn-3'))).stored).toBeDefined();
    });

    it('ends a revoked credential’s stored session when the edge left to end it dies before its lease runs out', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      const [sa, sb] = [a.bus.sessions, b.bus.sessions];
      if (sa === undefined || sb === undefined) return expect(sa ?? sb).toBeUndefined();
      const revoked = claimed(await a.bus.claim('org_1', 'dev-revoked', 'token:alice', under('tkn-1')));
      const kept = claimed(await a.bus.claim('org_1', 'dev-kept', 'token:alice', under('tkn-2')));
      sa.subscribe('org_1', 'dev-revoked', revoked.epoch, 'gone/#', options);
      sa.subscribe('org_1', 'dev-kept', kept.epoch, 'kept/#', options);
      await until(() => b.node.routes.size === 2, 'both store routes on b');
      expect([...(await sb.enqueue('org_1', queued('for-revoked'), null, ['gone/#'], 100))]).toEqual(['dev-revoked']);
      expect([...(await sb.enqueue('org_1', queued('for-kept'), null, ['kept/#'], 100))]).toEqual(['dev-kept']);
      // a's lease is live: the session is left to a, which would close its connection and end it.
      expect(await sb.revoke(['tkn-1'])).toBe(0);
      // a dies first (no release, no leave): b's heartbeat reaps it once its lease runs out.
      await a.bus.close({ release: false });
      await until(() => b.node.of('gone').length === 1, 'gone on b', cluster.leaseMs * 4 + 2000);
      // The reap withdrew the revoked session's route before it told of a's departure.
      expect([...b.node.routes]).toEqual([`${SESSION_STORE_EDGE} org_1 kept/#`]);
      expect(claimed(await b.bus.claim('org_1', 'dev-revoked', 'token:alice', under('tkn-3'))).stored).toBeUndefined();
      // The dead edge's session of a credential not revoked waits for its client, queue and all.
      const resumed = claimed(await b.bus.claim('org_1', 'dev-kept', 'token:alice', under('tkn-2'))).stored;
      expect([...(resumed?.subscriptions.keys() ?? [])]).toEqual(['kept/#']);
      expect(resumed?.messages.map((m) => m.message.payload.toString())).toEqual(['for-kept']);
    });

    it('ends an offline stored session when its expiry passes, and a dead edge’s live ones once its lease has', async () => {
      const a = await join('edge-a');
      const b = await join('edge-b');
      if (a.bus.sessions === undefined) return expect(b.bus.sessions).toBeUndefined();
      const short = { ...persist, expiryMs: 400 };
      const parked = claimed(await a.bus.claim('org_1', 'dev-parked', 'token:alice', { persist: short }));
      const held = claimed(await a.bus.claim('org_1', 'dev-held', 'token:alice', { persist: short }));
      a.bus.sessions.subscribe('org_1', 'dev-parked', parked.epoch, 'p/#', options);
      a.bus.sessions.subscribe('org_1', 'dev-held', held.epoch, 'h/#', options);
      await until(() => b.node.routes.size === 2, 'both store routes on b');
      a.bus.release('org_1', 'dev-parked', parked.epoch, { expiryMs: 400, willHere: false });
      await sleep(50);
      // a dies holding dev-held: its session starts waiting once a's lease is reaped, then ends 400 ms later.
      await a.bus.close({ release: false });
      await until(() => b.node.routes.size === 0, 'the store routes gone', cluster.leaseMs * 4 + 2000);
      for (const clientId of ['dev-parked', 'dev-held']) {
        expect(claimed(await b.bus.claim('org_1', clientId, 'token:alice', { persist })).stored).toBeUndefined();
      }
    });
  });
}
