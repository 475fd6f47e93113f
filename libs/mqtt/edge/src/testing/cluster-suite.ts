/**
 * Several edges in one process on one cluster bus, with real `mqtt` clients: run on the in-process hub
 * (edge.cluster.spec.ts) and on Redis (edge.cluster.int-spec.ts), the same scenarios for both.
 */
import type { ClaimOptions, ClusterBus, ClusterMessage, ClusterNode, ReleaseEnd } from '@signet/mqtt-cluster';
import type { ClusterHarness } from '@signet/mqtt-cluster/testing';
import type { MqttClient } from 'mqtt';
import { CONNACK_CODES } from '../core/principal';
import { MqttEdge } from '../edge';
import {
  collect,
  connect,
  endAllClients,
  nextServerDisconnect,
  ORG_A,
  ORG_B,
  refusalCode,
  sleep,
  TestAuthenticator,
  unique,
  UNLIMITED_CONNECT_RATE,
  waitFor,
} from './helpers';


/** A bus that counts what reaches this edge's inbox: proves a message goes only where a subscriber is. */
export class CountingBus implements ClusterBus {
  delivered: ClusterMessage[] = [];
  /** Calls of send and setRoute made by this edge. */
  sent = 0;
  routeCalls = 0;
  constructor(readonly inner: ClusterBus) {}
  get edgeId(): string {
    return this.inner.edgeId;
  }
  start(node: ClusterNode): Promise<void> {
    const deliver = node.deliver.bind(node);
    return this.inner.start({
      deliver: (orgId, message) => {
        this.delivered.push(message);
        deliver(orgId, message);
      },
      routeChanged: node.routeChanged.bind(node),
      edgeGone: node.edgeGone.bind(node),
      takenOver: node.takenOver.bind(node),
      rejoined: node.rejoined.bind(node),
      kick: node.kick.bind(node),
      durable: node.durable.bind(node),
    });
  }
  get alone(): boolean | undefined {
    return this.inner.alone;
  }
  setRoute(orgId: string, filter: string, present: boolean): void {
    this.routeCalls++;
    this.inner.setRoute(orgId, filter, present);
  }
  send(edgeId: string, orgId: string, message: ClusterMessage): void {
    this.sent++;
    this.inner.send(edgeId, orgId, message);
  }
  claim(orgId: string, clientId: string, owner: string, options?: ClaimOptions): ReturnType<ClusterBus['claim']> {
    return this.inner.claim(orgId, clientId, owner, options);
  }
  release(orgId: string, clientId: string, epoch: number, end?: ReleaseEnd): void {
    this.inner.release(orgId, clientId, epoch, end);
  }
  close(options?: { release?: boolean }): Promise<void> {
    return this.inner.close(options);
  }
  get retained(): ClusterBus['retained'] {
    return this.inner.retained;
  }
  get sessions(): ClusterBus['sessions'] {
    return this.inner.sessions;
  }
}

export interface ClusterEdge {
  edge: MqttEdge;
  bus: CountingBus;
  url: string;
}

/** An edge of `cluster` listening on a free TCP port, its bus counted. */
export async function startClusterEdge(cluster: ClusterHarness, edgeId: string): Promise<ClusterEdge> {
  const bus = new CountingBus(cluster.bus(edgeId));
  const edge = new MqttEdge({
    authenticator: new TestAuthenticator(),
    limits: { sweepIntervalMs: 50, ...UNLIMITED_CONNECT_RATE },
    cluster: bus,
  });
  const { port } = await edge.listenTcp(0, '127.0.0.1');
  return { edge, bus, url: `mqtt://127.0.0.1:${port}` };
}

type Node = ClusterEdge;

export interface ThreeEdges {
  cluster: ClusterHarness;
  a: ClusterEdge;
  b: ClusterEdge;
  c: ClusterEdge;
}

/** For each test of the enclosing describe: a fresh cluster from `harness` with three edges, closed after it. */
export function useThreeEdges(harness: () => Promise<ClusterHarness>): ThreeEdges {
  const three = {} as ThreeEdges;
  beforeEach(async () => {
    three.cluster = await harness();
    three.a = await startClusterEdge(three.cluster, 'edge-a');
    three.b = await startClusterEdge(three.cluster, 'edge-b');
    three.c = await startClusterEdge(three.cluster, 'edge-c');
  });
  afterEach(async () => {
    await endAllClients();
    await Promise.all([three.a, three.b, three.c].map((n) => n.edge.close()));
    await three.cluster.close();
  });
  return three;
}

export function clusterSuite(name: string, harness: () => Promise<ClusterHarness>): void {
  describe(`many edges on one bus: ${name}`, () => {
    let cluster: ClusterHarness;
    let a: Node;
    let b: Node;
    let c: Node;
    const three = useThreeEdges(harness);
    beforeEach(() => ({ cluster, a, b, c } = three));

    /** `count` routes of other edges known to `node`. */
    const routesOn = (node: Node, count: number) => waitFor(() => node.edge.stats().remoteRoutes === count, 3000, `${count} routes`);

    async function subscribe(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 0): Promise<void> {
      await new Promise<void>((resolve, reject) => client.subscribe(filter, { qos }, (err) => (err ? reject(err) : resolve())));
    }

    it('delivers QoS 0, 1 and 2 across edges, once to each edge with a subscriber and to no other edge', async () => {
      const sub1 = await connect(b.url, 5, { username: `alice@${ORG_A}`, password: 'good' });
      const sub2 = await connect(b.url, 4, { username: `alice@${ORG_A}`, password: 'good' });
      const got1 = collect(sub1);
      const got2 = collect(sub2);
      await subscribe(sub1, 'users/alice/k/#', 2);
      await subscribe(sub2, 'users/alice/+/temp', 1);
      await routesOn(a, 2);
      const pub = await connect(a.url, 5, { username: `alice@${ORG_A}`, password: 'good' });
      await pub.publishAsync('users/alice/k/temp', 'zero', { qos: 0 });
      await pub.publishAsync('users/alice/k/temp', 'one', { qos: 1 });
      await pub.publishAsync('users/alice/k/temp', 'two', { qos: 2 });
      await waitFor(() => got1.length === 3 && got2.length === 3, 3000, 'deliveries on b');
      // Each at the lower of the published and the granted QoS, as on one edge.
      expect(got1.map((m) => [m.payload, m.qos])).toEqual([
        ['zero', 0],
        ['one', 1],
        ['two', 2],
      ]);
      expect(got2.map((m) => [m.payload, m.qos])).toEqual([
        ['zero', 0],
        ['one', 1],
        ['two', 1],
      ]);
      // Two subscribers, two matching filters on b: one copy of each message crossed the bus, none to c.
      expect(b.bus.delivered.map((m) => m.payload.toString())).toEqual(['zero', 'one', 'two']);
      expect(c.bus.delivered).toEqual([]);
      expect(a.bus.delivered).toEqual([]);
      expect(a.bus.sent).toBe(3);
      // A PUBLISH no other edge has interest in does not touch the bus.
      await pub.publishAsync('users/alice/elsewhere', 'local only', { qos: 1 });
      expect(a.bus.sent).toBe(3);
    });

    it('matches wildcards on the publishing edge, keeps `$` topics from `#` and `+`', async () => {
      const sub = await connect(c.url, 4, { username: `admin@${ORG_A}`, password: 'good' });
      const got = collect(sub);
      await subscribe(sub, '#');
      await subscribe(sub, '+/status');
      await routesOn(a, 2);
      const pub = await connect(a.url, 4, { username: `admin@${ORG_A}`, password: 'good' });
      await pub.publishAsync('$SYS/status', 'hidden');
      await pub.publishAsync('dev/status', 'seen');
      await waitFor(() => got.length === 1, 3000, 'delivery on c');
      await sleep(50);
      expect(got.map((m) => m.topic)).toEqual(['dev/status']);
      expect(c.bus.delivered.map((m) => m.topic)).toEqual(['dev/status']);
    });

    it('keeps orgs apart across edges: `#` in one org hears nothing of another', async () => {
      const subA = await connect(b.url, 5, { username: `admin@${ORG_A}`, password: 'good' });
      const subB = await connect(c.url, 5, { username: `admin@${ORG_B}`, password: 'good' });
      const gotA = collect(subA);
      const gotB = collect(subB);
      await subscribe(subA, '#');
      await subscribe(subB, '#');
      await routesOn(a, 2);
      const pubB = await connect(a.url, 5, { username: `admin@${ORG_B}`, password: 'good' });
      await pubB.publishAsync('plant/1', 'org b only', { qos: 1 });
      await waitFor(() => gotB.length === 1, 3000, 'delivery in org b');
      await sleep(50);
      expect(gotA).toEqual([]);
      expect(b.bus.delivered).toEqual([]);
      expect(gotB[0].payload).toBe('org b only');
    });

    it('takes a client id over from another edge (0x8E there); another owner is refused everywhere', async () => {
      const clientId = unique('dev-');
      const first = await connect(a.url, 5, { username: `alice@${ORG_A}`, password: 'good', clientId });
      const kicked = nextServerDisconnect(first);
      const second = await connect(b.url, 5, { username: `alice@${ORG_A}`, password: 'good', clientId });
      expect(await kicked).toBe(0x8e);
      expect(second.connected).toBe(true);
      await waitFor(() => a.edge.stats().sessions === 0, 3000, 'session gone from a');
      expect(await refusalCode(c.url, 5, { username: `bob@${ORG_A}`, password: 'good', clientId })).toBe(CONNACK_CODES.client_id_in_use.v5);
      expect(await refusalCode(b.url, 4, { username: `bob@${ORG_A}`, password: 'good', clientId })).toBe(CONNACK_CODES.client_id_in_use.v4);
      // The same id in another org is another client.
      const other = await connect(c.url, 5, { username: `bob@${ORG_B}`, password: 'good', clientId });
      expect(other.connected).toBe(true);
      // Once alice leaves, the id is free.
      await new Promise<void>((resolve) => second.end(false, {}, () => resolve()));
      await waitFor(() => b.edge.stats().connections === 0, 3000, 'alice gone');
      let accepted = false;
      for (let i = 0; i < 50 && !accepted; i++) {
        accepted = await connect(c.url, 5, { username: `bob@${ORG_A}`, password: 'good', clientId }).then(
          () => true,
          () => false,
        );
        if (!accepted) await sleep(20);
      }
      expect(accepted).toBe(true);
    });

    it('lists the live sessions of every edge, and a kick closes the client on its edge with 0x98', async () => {
      const onA = unique('dev-a-');
      const onB = unique('dev-b-');
      const first = await connect(a.url, 5, { username: `alice@${ORG_A}`, password: 'good:tok_alice', clientId: onA });
      const second = await connect(b.url, 4, { username: `bob@${ORG_A}`, password: 'good', clientId: onB });
      await connect(c.url, 5, { username: `carol@${ORG_B}`, password: 'good', clientId: onA });
      const listed = await cluster.sessions.list(ORG_A, { limit: 10 });
      expect(listed.sessions.map((s) => [s.edgeId, s.clientId, s.userId, s.protocolVersion])).toEqual([
        ['edge-a', onA, 'alice', 5],
        ['edge-b', onB, 'bob', 4],
      ]);
      expect(listed.sessions[0]).toMatchObject({ username: `alice@${ORG_A}`, credentialKind: 'token', credentialId: 'tok_alice', transport: 'tcp', address: '127.0.0.1' });
      expect(listed.sessions[0].connectedAt).toBeGreaterThan(Date.now() - 60_000);
      const kicked = nextServerDisconnect(first);
      expect(await cluster.sessions.kick(ORG_A, onA)).toBe(true);
      expect(await kicked).toBe(0x98);
      expect(second.connected).toBe(true);
      let left = await cluster.sessions.list(ORG_A, { limit: 10 });
      for (let i = 0; i < 100 && left.sessions.length !== 1; i++) {
        await sleep(20);
        left = await cluster.sessions.list(ORG_A, { limit: 10 });
      }
      expect(left.sessions.map((s) => s.clientId)).toEqual([onB]);
      // The same client id in the other org is another client: not kicked.
      expect((await cluster.sessions.list(ORG_B, { limit: 10 })).sessions.map((s) => s.clientId)).toEqual([onA]);
    });

    it('serves retained messages set on one edge from any other; an empty payload clears them everywhere', async () => {
      // Without a shared store (in-process) each edge keeps its own retained messages.
      if (a.bus.retained === undefined) return;
      const topic = `users/alice/${unique('r')}`;
      const pub = await connect(a.url, 5, { username: `alice@${ORG_A}`, password: 'good' });
      await pub.publishAsync(topic, 'kept', { qos: 1, retain: true });
      await pub.publishAsync(`${topic}/brief`, 'soon gone', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
      // The store is written as the PUBLISH is handled, not before its PUBACK: give Redis its round trip.
      await sleep(50);
      const sub = await connect(b.url, 5, { username: `alice@${ORG_A}`, password: 'good' });
      const got = collect(sub);
      await subscribe(sub, `${topic}/#`, 1);
      await waitFor(() => got.length === 2, 3000, 'retained on b');
      expect(got.map((m) => [m.topic, m.payload, m.retain]).sort()).toEqual([
        [topic, 'kept', true],
        [`${topic}/brief`, 'soon gone', true],
      ]);
      // Another org sees none of them.
      const other = await connect(c.url, 5, { username: `admin@${ORG_B}`, password: 'good' });
      const otherGot = collect(other);
      await subscribe(other, '#');
      // Cleared from c by the same user: gone for a subscriber on a, and the expired one too.
      const clearer = await connect(c.url, 4, { username: `alice@${ORG_A}`, password: 'good' });
      await clearer.publishAsync(topic, '', { qos: 1, retain: true });
      await sleep(1100);
      const late = await connect(a.url, 5, { username: `alice@${ORG_A}`, password: 'good' });
      const lateGot = collect(late);
      await subscribe(late, `${topic}/#`, 1);
      await sleep(100);
      expect(lateGot).toEqual([]);
      expect(otherGot).toEqual([]);
      expect(a.edge.stats().retainedMessages).toBe(0);
    });

    it('reaps the routes of a stopped edge when its lease expires, not earlier', async () => {
      const sub = await connect(c.url, 4, { username: `admin@${ORG_A}`, password: 'good' });
      await subscribe(sub, 'x/#');
      await routesOn(a, 1);
      await routesOn(b, 1);
      // As if c's process were killed: no goodbye, its lease just stops being renewed.
      await c.bus.close({ release: false });
      await sleep(cluster.leaseMs / 2);
      expect(a.edge.stats().remoteRoutes).toBe(1);
      await waitFor(() => a.edge.stats().remoteRoutes === 0 && b.edge.stats().remoteRoutes === 0, cluster.leaseMs * 4, 'reaped');
      const pub = await connect(a.url, 4, { username: `admin@${ORG_A}`, password: 'good' });
      await pub.publishAsync('x/1', 'nobody');
      await sleep(50);
      expect(c.bus.delivered).toEqual([]);
    });

    it('gives each message to one member of a shared group in the whole cluster, round-robin over the edges', async () => {
      const user = { username: `admin@${ORG_A}`, password: 'good' };
      const [onA, onB, plain] = [await connect(a.url, 5, user), await connect(b.url, 5, user), await connect(b.url, 5, user)];
      const [gotA, gotB, gotPlain] = [collect(onA), collect(onB), collect(plain)];
      await subscribe(onA, '$share/workers/jobs/#', 1);
      await subscribe(onB, '$share/workers/jobs/#', 1);
      await subscribe(plain, 'jobs/#', 1);
      await routesOn(c, 3);
      await routesOn(a, 2);
      // From an edge without members (c) and from one with a member (a).
      for (const from of [c, a]) {
        const pub = await connect(from.url, 5, user);
        for (let i = 0; i < 10; i++) await pub.publishAsync(`jobs/${from === c ? 'c' : 'a'}/${i}`, String(i), { qos: 1 });
      }
      await waitFor(() => gotA.length + gotB.length >= 20 && gotPlain.length >= 20, 3000, 'deliveries');
      await sleep(100);
      const topics = [...gotA, ...gotB].map((m) => m.topic).sort();
      // Each message once in the group, none twice, and both edges' members had a share.
      expect(topics).toEqual([...new Set(topics)]);
      expect(topics).toHaveLength(20);
      expect(gotA.length).toBeGreaterThan(0);
      expect(gotB.length).toBeGreaterThan(0);
      // The plain subscriber on b still gets every message, and only once.
      expect(gotPlain).toHaveLength(20);
    });

    it('withdraws routes when the last subscriber leaves, and at once when an edge closes', async () => {
      const s1 = await connect(b.url, 4, { username: `admin@${ORG_A}`, password: 'good' });
      const s2 = await connect(b.url, 5, { username: `admin@${ORG_A}`, password: 'good' });
      await subscribe(s1, 'k/#');
      await subscribe(s2, 'k/#');
      // A shared group is announced by its whole `$share/…` filter.
      await subscribe(s2, '$share/g/j/#');
      await routesOn(a, 2);
      await new Promise<void>((resolve, reject) => s1.unsubscribe('k/#', (err) => (err ? reject(err) : resolve())));
      await sleep(50);
      // s2 still holds k/#: the edge's interest did not change.
      expect(a.edge.stats().remoteRoutes).toBe(2);
      await b.edge.close();
      await routesOn(a, 0);
    });
  });
}
