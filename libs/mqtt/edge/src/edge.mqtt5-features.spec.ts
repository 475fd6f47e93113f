/**
 * MQTT 5.0 features the edge advertises in CONNACK: Shared Subscriptions (§4.8.2), Subscription
 * Identifiers (§3.8.2.1.2, §3.3.4) and client→server Topic Aliases (§3.3.2.3.4). Real `mqtt` clients
 * (protocolVersion 5) over TCP; raw bytes where a well-behaved client library would refuse to send.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { IConnackPacket, Packet } from 'mqtt-packet';
import {
  closesWithin,
  collect,
  connect,
  connectBytes,
  decodeAll,
  encodePacket,
  endAllClients,
  endClient,
  openRaw,
  ORG_A,
  ORG_B,
  sleep,
  unique,
  useEdge,
  waitFor,
  type RawConnection,
  type Received,
  type TestEdge,
} from './testing/helpers';

let t: TestEdge;

useEdge((edge) => (t = edge));

afterEach(async () => {
  await endAllClients();
});

/** A 5.0 client of ORG_A (or `org`) granted exactly `grants` for publish and subscribe. */
function client(
  grants: string[],
  options: IClientOptions = {},
  org = ORG_A,
  setup?: (c: MqttClient) => void,
): Promise<MqttClient> {
  const cred = unique('cred_');
  return connect(
    t.url('tcp'),
    5,
    { username: `${unique('u')}@${org}`, password: `grants:${cred}:${grants.join(',')}`, ...options },
    setup,
  );
}

/** SUBACK codes (mqtt.js reports failure codes as an error carrying the packet). */
function subscribe(c: MqttClient, filter: string, qos: 0 | 1 | 2 = 0, extra: object = {}): Promise<number[]> {
  return new Promise((resolve) => {
    c.subscribe(filter, { qos, ...extra }, (err, granted) => {
      const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
      resolve(packet?.granted ?? (granted ?? []).map((g) => g.qos));
    });
  });
}

function publish(c: MqttClient, topic: string, payload: string, options: object = {}): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, options, (err) => (err ? reject(err) : resolve())));
}

function unsubscribe(c: MqttClient, filter: string): Promise<void> {
  return new Promise((resolve) => c.unsubscribe(filter, () => resolve()));
}

/** The CONNACK a 5.0 client gets. */
async function connack(): Promise<IConnackPacket> {
  let packet: IConnackPacket | undefined;
  const c = await connect(t.url('tcp'), 5, { username: `ca@${ORG_A}`, password: 'good' }, (cl) =>
    cl.once('connect', (p) => (packet = p)),
  );
  await endClient(c);
  return packet!;
}

/** A raw 5.0 connection past CONNACK, granted `x/#`. */
async function raw(): Promise<RawConnection> {
  const conn = await openRaw(t, 'tcp');
  conn.send(connectBytes(5, unique('raw-'), `raw@${ORG_A}`, `grants:${unique('cred_')}:x/#`));
  await waitFor(() => decodeAll(conn.received(), 5).some((p) => p.cmd === 'connack'), 3000, 'CONNACK');
  return conn;
}

function packets(conn: RawConnection): Packet[] {
  return decodeAll(conn.received(), 5);
}

/** The reason code of the DISCONNECT the server sent before closing (-1: none). */
async function serverDisconnect(conn: RawConnection): Promise<number> {
  expect(await closesWithin(conn, 3000)).toBe(true);
  const d = packets(conn).find((p) => p.cmd === 'disconnect');
  return d === undefined ? -1 : ((d as { reasonCode?: number }).reasonCode ?? 0);
}

function rawSubscribe(conn: RawConnection, filters: { topic: string; qos: 0 | 1 | 2; nl?: boolean }[], properties?: object): void {
  conn.send(encodePacket({ cmd: 'subscribe', messageId: 7, subscriptions: filters, properties } as Packet, 5));
}

function rawPublish(conn: RawConnection, topic: string, payload: string, properties?: object): void {
  conn.send(encodePacket({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false, properties } as Packet, 5));
}

async function subackOf(conn: RawConnection): Promise<number[]> {
  await waitFor(() => packets(conn).some((p) => p.cmd === 'suback'), 3000, 'SUBACK');
  return (packets(conn).find((p) => p.cmd === 'suback') as { granted: number[] }).granted;
}

describe('shared subscriptions (MQTT 5.0, §4.8.2)', () => {
  it('CONNACK advertises Shared Subscription Available', async () => {
    expect((await connack()).properties?.sharedSubscriptionAvailable).toBe(true);
  });

  it('[MQTT-4.8.2-1] [MQTT-4.8.2-2] an invalid ShareName gets SUBACK 0x8F; a valid one in the same packet is granted', async () => {
    const conn = await raw();
    rawSubscribe(conn, [
      { topic: '$share//x/a', qos: 0 },
      { topic: '$share/g+h/x/a', qos: 0 },
      { topic: '$share/g#/x/a', qos: 0 },
      { topic: '$share/g', qos: 0 },
      { topic: '$share/g/', qos: 0 },
      { topic: '$share/g/x/+', qos: 1 },
    ]);
    expect(await subackOf(conn)).toEqual([0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 1]);
    conn.destroy();
  });

  it('[MQTT-4.8.2-3] each message goes to one member of the group, round-robin, at its granted QoS', async () => {
    const g = unique('g');
    const a = await client(['work/#']);
    const b = await client(['work/#']);
    const plain = await client(['work/#']);
    const got = { a: collect(a), b: collect(b), plain: collect(plain) };
    expect(await subscribe(a, `$share/${g}/work/+`, 1)).toEqual([1]);
    expect(await subscribe(b, `$share/${g}/work/+`, 2)).toEqual([2]);
    expect(await subscribe(plain, 'work/+', 0)).toEqual([0]);
    const pub = await client(['work/#']);
    for (let i = 0; i < 10; i++) await publish(pub, 'work/job', `m${i}`, { qos: 2 });
    await waitFor(() => got.a.length + got.b.length === 10 && got.plain.length === 10, 3000, 'deliveries');
    await sleep(100);
    expect(got.a.length + got.b.length).toBe(10);
    expect(got.a.length).toBe(5);
    expect(got.b.length).toBe(5);
    const all = [...got.a, ...got.b].map((m) => m.payload).sort();
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    expect(got.a.every((m) => m.qos === 1)).toBe(true);
    expect(got.b.every((m) => m.qos === 2)).toBe(true);
    expect(got.plain.every((m) => m.qos === 0)).toBe(true);
  });

  it('the inner filter is checked against the grants (SUBACK 0x87), and groups are per org', async () => {
    const g = unique('g');
    const denied = await client(['work/#']);
    expect(await subscribe(denied, `$share/${g}/other/#`, 0)).toEqual([0x87]);
    const a = await client(['work/#']);
    const other = await client(['work/#'], {}, ORG_B);
    const gotA = collect(a);
    const gotOther = collect(other);
    await subscribe(a, `$share/${g}/work/#`, 0);
    await subscribe(other, `$share/${g}/work/#`, 0);
    const pub = await client(['work/#']);
    for (let i = 0; i < 4; i++) await publish(pub, 'work/x', `m${i}`, { qos: 1 });
    await waitFor(() => gotA.length === 4, 3000, 'org A member gets every message');
    await sleep(100);
    expect(gotOther).toEqual([]);
  });

  it('retained messages are not sent on a new shared subscription (§4.8.2), but are on a plain one', async () => {
    const topic = `work/${unique('r')}`;
    const pub = await client(['work/#']);
    await publish(pub, topic, 'kept', { qos: 1, retain: true });
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, `$share/${unique('g')}/${topic}`, 1);
    await sleep(150);
    expect(got).toEqual([]);
    await subscribe(s, topic, 1);
    await waitFor(() => got.length === 1, 3000, 'retained on the plain subscription');
    expect(got[0]).toMatchObject({ payload: 'kept', retain: true });
    await publish(pub, topic, '', { qos: 1, retain: true });
  });

  it('UNSUBSCRIBE $share/… leaves the group: the remaining member gets every message', async () => {
    const g = unique('g');
    const a = await client(['work/#']);
    const b = await client(['work/#']);
    const gotA = collect(a);
    const gotB = collect(b);
    await subscribe(a, `$share/${g}/work/u`, 1);
    await subscribe(b, `$share/${g}/work/u`, 1);
    await unsubscribe(a, `$share/${g}/work/u`);
    const pub = await client(['work/#']);
    for (let i = 0; i < 4; i++) await publish(pub, 'work/u', `m${i}`, { qos: 1 });
    await waitFor(() => gotB.length === 4, 3000, 'remaining member');
    await sleep(100);
    expect(gotA).toEqual([]);
    expect(t.edge.stats().subscriptions).toBeGreaterThan(0);
  });

  it('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error (DISCONNECT 0x82)', async () => {
    const conn = await raw();
    rawSubscribe(conn, [{ topic: '$share/g/x/a', qos: 0, nl: true }]);
    expect(await serverDisconnect(conn)).toBe(0x82);
  });

  it('MQTT 3.1.1 is unchanged: $share/… gets SUBACK 0x80', async () => {
    const c = await connect(t.url('tcp'), 4, { username: `v4@${ORG_A}`, password: `grants:${unique('cred_')}:work/#` });
    expect(await subscribe(c, '$share/g/work/#', 0)).toEqual([0x80]);
  });
});

describe('subscription identifiers (MQTT 5.0, §3.8.2.1.2)', () => {
  const withId = (id: number): object => ({ properties: { subscriptionIdentifier: id } });

  it('CONNACK advertises Subscription Identifiers Available', async () => {
    expect((await connack()).properties?.subscriptionIdentifiersAvailable).toBe(true);
  });

  it('[MQTT-3.3.4-3] a message carries the identifier of the subscription it matched; none without one', async () => {
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, 'work/id/+', 1, withId(42));
    await subscribe(s, 'work/plain', 1);
    const pub = await client(['work/#']);
    await publish(pub, 'work/id/a', 'one', { qos: 1 });
    await publish(pub, 'work/plain', 'two', { qos: 0 });
    await waitFor(() => got.length === 2, 3000, 'deliveries');
    expect(got[0].properties?.subscriptionIdentifier).toBe(42);
    expect(got[1].properties?.subscriptionIdentifier).toBeUndefined();
  });

  it('[MQTT-3.3.4-4] one copy for overlapping subscriptions carries every matching identifier', async () => {
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, 'work/o/#', 0, withId(1));
    await subscribe(s, 'work/o/+', 1, withId(2));
    await subscribe(s, 'work/o/x', 0);
    const pub = await client(['work/#']);
    await publish(pub, 'work/o/x', 'm', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    await sleep(100);
    expect(got).toHaveLength(1);
    expect(got[0].qos).toBe(1);
    const ids = got[0].properties?.subscriptionIdentifier;
    expect(Array.isArray(ids) ? [...(ids as number[])].sort() : ids).toEqual([1, 2]);
  });

  it('a replaced subscription takes the new identifier (or none) [MQTT-3.8.4-3]', async () => {
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, 'work/rep', 0, withId(5));
    await subscribe(s, 'work/rep', 0, withId(6));
    const pub = await client(['work/#']);
    await publish(pub, 'work/rep', 'a', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    expect(got[0].properties?.subscriptionIdentifier).toBe(6);
    await subscribe(s, 'work/rep', 0);
    await publish(pub, 'work/rep', 'b', { qos: 1 });
    await waitFor(() => got.length === 2, 3000, 'delivery');
    expect(got[1].properties?.subscriptionIdentifier).toBeUndefined();
  });

  it('retained messages sent on subscribe carry its identifier', async () => {
    const topic = `work/${unique('ri')}`;
    const pub = await client(['work/#']);
    await publish(pub, topic, 'kept', { qos: 1, retain: true });
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, topic, 1, withId(9));
    await waitFor(() => got.length === 1, 3000, 'retained');
    expect(got[0]).toMatchObject({ retain: true });
    expect(got[0].properties?.subscriptionIdentifier).toBe(9);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });

  it('a shared subscription\'s identifier goes with its copies; queued QoS 1 keeps it after a resume [MQTT-4.4.0-1]', async () => {
    const g = unique('g');
    const s = await client(['work/#']);
    const got = collect(s);
    await subscribe(s, `$share/${g}/work/sh`, 1, withId(77));
    const pub = await client(['work/#']);
    await publish(pub, 'work/sh', 'm', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    expect(got[0].properties?.subscriptionIdentifier).toBe(77);

    const clientId = unique('persist-');
    const cred = unique('cred_');
    const opts = { clientId, username: `${unique('p')}@${ORG_A}`, clean: false, properties: { sessionExpiryInterval: 60 } };
    const p = await client(['work/#'], { ...opts, password: `grants:${cred}:work/#` });
    await subscribe(p, 'work/q', 1, withId(3));
    await endClient(p);
    await publish(pub, 'work/q', 'queued', { qos: 1 });
    let gotBack: Received[] = [];
    const back = await client(['work/#'], { ...opts, password: `grants:${cred}:work/#` }, ORG_A, (c) => (gotBack = collect(c)));
    await waitFor(() => gotBack.length === 1, 3000, 'queued delivery');
    expect(gotBack[0].properties?.subscriptionIdentifier).toBe(3);
    await endClient(back);
  });

  it('[MQTT-3.8.2.1.2] a Subscription Identifier of 0 is a protocol error (DISCONNECT 0x82)', async () => {
    const conn = await raw();
    rawSubscribe(conn, [{ topic: 'x/a', qos: 0 }], { subscriptionIdentifier: 0 });
    expect(await serverDisconnect(conn)).toBe(0x82);
  });
});

describe('topic aliases, client to server (MQTT 5.0, §3.3.2.3.4)', () => {
  it('CONNACK advertises Topic Alias Maximum 10', async () => {
    expect((await connack()).properties?.topicAliasMaximum).toBe(10);
  });

  it('an alias set with a topic is used by PUBLISHes with an empty topic; subscribers get the full topic, no alias', async () => {
    const s = await client(['x/#']);
    const got = collect(s);
    await subscribe(s, 'x/#', 1);
    const conn = await raw();
    rawPublish(conn, 'x/aliased', 'one', { topicAlias: 3 });
    rawPublish(conn, '', 'two', { topicAlias: 3 });
    rawPublish(conn, 'x/other', 'three', { topicAlias: 3 }); // replaces the mapping
    rawPublish(conn, '', 'four', { topicAlias: 3 });
    await waitFor(() => got.length === 4, 3000, 'deliveries');
    expect(got.map((m) => `${m.topic} ${m.payload}`)).toEqual(['x/aliased one', 'x/aliased two', 'x/other three', 'x/other four']);
    expect(got.every((m) => m.properties?.topicAlias === undefined)).toBe(true);
    conn.destroy();
  });

  it('with mqtt.js: publish with a topic alias, then by alias only', async () => {
    const s = await client(['x/#']);
    const got = collect(s);
    await subscribe(s, 'x/js', 0);
    const pub = await client(['x/#']);
    await publish(pub, 'x/js', 'a', { qos: 1, properties: { topicAlias: 10 } });
    await publish(pub, '', 'b', { qos: 1, properties: { topicAlias: 10 } });
    await waitFor(() => got.length === 2, 3000, 'deliveries');
    expect(got.map((m) => m.topic)).toEqual(['x/js', 'x/js']);
  });

  it('the aliased topic is checked against the grants (PUBACK 0x87)', async () => {
    const conn = await raw();
    rawPublish(conn, 'x/ok', 'set', { topicAlias: 1 });
    conn.send(encodePacket({ cmd: 'publish', topic: 'y/denied', payload: Buffer.from('a'), qos: 1, messageId: 5, retain: false, dup: false, properties: { topicAlias: 2 } } as Packet, 5));
    conn.send(encodePacket({ cmd: 'publish', topic: '', payload: Buffer.from('b'), qos: 1, messageId: 6, retain: false, dup: false, properties: { topicAlias: 2 } } as Packet, 5));
    await waitFor(() => packets(conn).filter((p) => p.cmd === 'puback').length === 2, 3000, 'PUBACKs');
    const codes = packets(conn).filter((p) => p.cmd === 'puback').map((p) => (p as { reasonCode?: number }).reasonCode);
    expect(codes).toEqual([0x87, 0x87]);
    conn.destroy();
  });

  it('[MQTT-3.3.2-8] alias 0 is DISCONNECT 0x94', async () => {
    const conn = await raw();
    rawPublish(conn, 'x/a', 'm', { topicAlias: 0 });
    expect(await serverDisconnect(conn)).toBe(0x94);
  });

  it('[MQTT-3.3.2-9] an alias above the Topic Alias Maximum is DISCONNECT 0x94', async () => {
    const conn = await raw();
    rawPublish(conn, 'x/a', 'm', { topicAlias: 11 });
    expect(await serverDisconnect(conn)).toBe(0x94);
  });

  it('an unknown alias with an empty topic is DISCONNECT 0x82 (§3.3.4)', async () => {
    const conn = await raw();
    rawPublish(conn, '', 'm', { topicAlias: 4 });
    expect(await serverDisconnect(conn)).toBe(0x82);
  });

  it('[MQTT-3.3.2-7] mappings are not carried to another connection', async () => {
    const first = await raw();
    rawPublish(first, 'x/a', 'm', { topicAlias: 2 });
    await sleep(50);
    first.destroy();
    const second = await raw();
    rawPublish(second, '', 'm', { topicAlias: 2 });
    expect(await serverDisconnect(second)).toBe(0x82);
  });

  it('MQTT 3.1.1 clients are unaffected', async () => {
    const s = await client(['x/#']);
    const got = collect(s);
    await subscribe(s, 'x/v4', 0);
    const c = await connect(t.url('tcp'), 4, { username: `v4@${ORG_A}`, password: `grants:${unique('cred_')}:x/#` });
    await publish(c, 'x/v4', 'm', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
  });
});
