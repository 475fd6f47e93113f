/**
 * Persistent sessions on the Redis bus: stored where every edge finds them, resumed on another edge with
 * Session Present and what was queued, acknowledged QoS 1 kept until the subscriber acknowledges it.
 * Three edges in this process on the machine's Redis, real `mqtt` clients.
 */
import type { MqttClient } from 'mqtt';
import Redis from 'ioredis';
import { redisUrl } from '@signet/testing';
import { redisClusterHarness } from '@signet/mqtt-cluster/testing';
import { useThreeEdges, type ClusterEdge as Node } from './testing/cluster-suite';
import { collect, connect, ORG_A, sleep, unique, waitFor } from './testing/helpers';

const ALICE = { username: `alice@${ORG_A}`, password: 'good' };
/** 5.0 options of a session that outlives its connection. */
const PERSISTENT = { clean: false, properties: { sessionExpiryInterval: 300 } } as const;

describe('stored sessions on the Redis bus', () => {
  let a: Node;
  let b: Node;
  let c: Node;
  const three = useThreeEdges(redisClusterHarness('stored-sessions'));
  beforeEach(() => ({ a, b, c } = three));

  /**
   * Until `node` knows `count` routes of the others: a stored session's subscription is two while it is
   * connected (its edge's and the store's), one while it is not.
   */
  const routes = (node: Node, count: number) => waitFor(() => node.edge.stats().remoteRoutes === count, 3000, `${count} routes`);

  /** Closes the connection without DISCONNECT, as a lost network would. */
  const drop = (client: MqttClient) => new Promise<void>((resolve) => client.end(true, {}, () => resolve()));

  it('resumes on another edge with Session Present, the messages queued meanwhile and its subscriptions', async () => {
    const clientId = unique('dev-');
    const first = await connect(b.url, 5, { ...ALICE, clientId, ...PERSISTENT });
    await first.subscribeAsync('users/alice/k/#', { qos: 1 });
    await routes(a, 2);
    await drop(first);
    const pub = await connect(a.url, 5, ALICE);
    for (const n of [1, 2, 3]) await pub.publishAsync('users/alice/k/temp', `m${n}`, { qos: 1 });
    let present: boolean | undefined;
    const got: string[] = [];
    const again = await connect(c.url, 5, { ...ALICE, clientId, ...PERSISTENT }, (client) => {
      client.on('connect', (ack) => (present = ack.sessionPresent));
      client.on('message', (_t, p) => got.push(p.toString()));
    });
    expect(present).toBe(true);
    await waitFor(() => got.length === 3, 3000, 'queued messages');
    // Its subscription came with it: a live message follows, once.
    await pub.publishAsync('users/alice/k/temp', 'live', { qos: 1 });
    await waitFor(() => got.length >= 4, 3000, 'live message');
    await sleep(200);
    expect(got).toEqual(['m1', 'm2', 'm3', 'live']);
    expect(again.connected).toBe(true);
  });

  it('3.1.1 clean session 0 resumes on another edge the same way; QoS 0 is not queued', async () => {
    const clientId = unique('dev-');
    const first = await connect(a.url, 4, { ...ALICE, clientId, clean: false });
    await first.subscribeAsync('users/alice/#', { qos: 1 });
    await routes(b, 2);
    await drop(first);
    const pub = await connect(b.url, 4, ALICE);
    await pub.publishAsync('users/alice/x', 'zero', { qos: 0 });
    await pub.publishAsync('users/alice/x', 'one', { qos: 1 });
    let present: boolean | undefined;
    const got: string[] = [];
    await connect(c.url, 4, { ...ALICE, clientId, clean: false }, (client) => {
      client.on('connect', (ack) => (present = ack.sessionPresent));
      client.on('message', (_t, p) => got.push(p.toString()));
    });
    expect(present).toBe(true);
    await waitFor(() => got.length === 1, 3000, 'queued message');
    await sleep(200);
    expect(got).toEqual(['one']);
  });

  it('a clean start anywhere ends the stored session: nothing present, nothing queued, no route left', async () => {
    const clientId = unique('dev-');
    const first = await connect(a.url, 5, { ...ALICE, clientId, ...PERSISTENT });
    await first.subscribeAsync('users/alice/k/#', { qos: 1 });
    await routes(c, 2);
    await drop(first);
    const pub = await connect(c.url, 5, ALICE);
    await pub.publishAsync('users/alice/k/1', 'queued', { qos: 1 });
    let present: boolean | undefined;
    const got: string[] = [];
    await connect(b.url, 5, { ...ALICE, clientId, clean: true }, (client) => {
      client.on('connect', (ack) => (present = ack.sessionPresent));
      client.on('message', (_t, p) => got.push(p.toString()));
    });
    expect(present).toBe(false);
    await routes(c, 0);
    await sleep(200);
    expect(got).toEqual([]);
  });

  it('another user cannot resume someone’s stored session: it ends instead', async () => {
    const clientId = unique('dev-');
    const first = await connect(a.url, 5, { ...ALICE, clientId, ...PERSISTENT });
    await first.subscribeAsync('users/alice/k/#', { qos: 1 });
    await routes(b, 2);
    await drop(first);
    const pub = await connect(b.url, 5, ALICE);
    await pub.publishAsync('users/alice/k/1', 'for alice', { qos: 1 });
    let present: boolean | undefined;
    const got: string[] = [];
    await connect(c.url, 5, { username: `admin@${ORG_A}`, password: 'good', clientId, ...PERSISTENT }, (client) => {
      client.on('connect', (ack) => (present = ack.sessionPresent));
      client.on('message', (_t, p) => got.push(p.toString()));
    });
    expect(present).toBe(false);
    await sleep(200);
    expect(got).toEqual([]);
  });

  it('a message the subscriber received but did not acknowledge is sent again where it resumes; an acknowledged one is not', async () => {
    const clientId = unique('dev-');
    // This client acknowledges `acked` only: `held` stays unacknowledged (mqtt.js customHandleAcks).
    const first = await connect(b.url, 5, {
      ...ALICE,
      clientId,
      ...PERSISTENT,
      customHandleAcks: (_topic, payload, _packet, done) => {
        if (payload.toString() === 'acked') done(0);
      },
    });
    // mqtt.js emits 'message' only once acknowledged: what arrived is counted as packets.
    const seen: string[] = [];
    first.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish') seen.push(packet.payload.toString());
    });
    await first.subscribeAsync('users/alice/k/#', { qos: 1 });
    await routes(a, 2);
    const pub = await connect(a.url, 5, ALICE);
    await pub.publishAsync('users/alice/k/1', 'acked', { qos: 1 });
    await pub.publishAsync('users/alice/k/1', 'held', { qos: 1 });
    await waitFor(() => seen.length === 2, 3000, 'both delivered live');
    await sleep(100);
    expect(seen).toEqual(['acked', 'held']);
    await drop(first);
    const got: string[] = [];
    await connect(c.url, 5, { ...ALICE, clientId, ...PERSISTENT }, (client) => client.on('message', (_t, p) => got.push(p.toString())));
    await waitFor(() => got.length === 1, 3000, 'the unacknowledged one');
    await sleep(200);
    expect(got).toEqual(['held']);
  });

  it('the PUBACK comes once the message is in the durable queue of every stored subscriber', async () => {
    const clientId = unique('dev-');
    const first = await connect(c.url, 5, { ...ALICE, clientId, ...PERSISTENT });
    await first.subscribeAsync('users/alice/k/#', { qos: 1 });
    await routes(a, 2);
    await drop(first);
    const redis = new Redis(redisUrl());
    try {
      const queue = (await redis.keys(`*pq:${ORG_A}\u0000${clientId}`))[0] ?? null;
      const pub = await connect(a.url, 5, ALICE);
      for (let i = 0; i < 5; i++) {
        await pub.publishAsync('users/alice/k/1', `m${i}`, { qos: 1 });
        // Read right after the PUBACK: already there, each one.
        const key = queue ?? (await redis.keys(`*pq:${ORG_A}\u0000${clientId}`))[0];
        expect(await redis.xlen(key)).toBe(i + 1);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('a resume on another edge cancels the delayed will the first edge kept', async () => {
    const clientId = unique('dev-');
    const watcher = await connect(a.url, 5, ALICE);
    const wills = collect(watcher);
    await watcher.subscribeAsync('users/alice/will', { qos: 1 });
    await routes(b, 1);
    await routes(c, 1);
    const first = await connect(b.url, 5, {
      ...ALICE,
      clientId,
      ...PERSISTENT,
      will: { topic: 'users/alice/will', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
    });
    await drop(first);
    await sleep(100);
    await connect(c.url, 5, { ...ALICE, clientId, ...PERSISTENT });
    await sleep(1500);
    expect(wills).toEqual([]);
    // Positive control: without a resume the delayed will goes out.
    const other = unique('dev-');
    const second = await connect(b.url, 5, {
      ...ALICE,
      clientId: other,
      ...PERSISTENT,
      will: { topic: 'users/alice/will', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
    });
    await drop(second);
    await waitFor(() => wills.length === 1, 3000, 'the will');
  });
});
