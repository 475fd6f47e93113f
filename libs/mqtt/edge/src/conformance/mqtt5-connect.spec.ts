/**
 * MQTT 5.0 conformance: CONNECT and CONNACK (§3.1, §3.2), sessions and their expiry (§4.1), wills and
 * Will Delay (§3.1.2.5, §3.1.3.2), keepalive and Server Keep Alive, Request Response/Problem
 * Information, Authentication Method (§4.12) and DISCONNECT (§3.14). Table: docs/conformance/mqtt-5.0.md.
 */
import type { IClientOptions } from 'mqtt';
import type { IConnackPacket, IConnectPacket, IDisconnectPacket, IPubackPacket, ISubackPacket } from 'mqtt-packet';
import {
  closesWithin,
  collect,
  encodePacket,
  endClient,
  nextServerDisconnect,
  openRaw,
  ORG_A,
  rawConnect5,
  refusalCode,
  sleep,
  utf8Field,
  waitFor,
  whenClosed,
  type TestEdge,
} from '../testing/helpers';
import { client5, publish, raw5, raw5Of, subscribe, unique, useEdge5 } from './mqtt5-harness';

const MAX_KEEPALIVE = 30;

let t: TestEdge;
useEdge5((edge) => (t = edge), { maxKeepAliveSeconds: MAX_KEEPALIVE });

/** The CONNECT bytes of a raw 5.0 client with a fresh credential for `x/#`. */
function connectPacket(fields: Partial<IConnectPacket> = {}): Buffer {
  return encodePacket({ ...connectFields(), ...fields } as IConnectPacket, 5);
}

/** Fields of a well-formed 5.0 CONNECT with a fresh credential for `x/#`. */
function connectFields(): Partial<IConnectPacket> {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    clientId: unique('c'),
    username: `${unique('r')}@${ORG_A}`,
    password: Buffer.from(`grants:${unique('cred_')}:x/#`),
  };
}

/** Index of the Connect Flags byte in a CONNECT with a one-byte Remaining Length (§3.1.2.3). */
const FLAGS_AT = 2 + 2 + 4 + 1;

/** A persistent session request (Clean Start 0, Session Expiry Interval `expiry`). */
const persistent = (clientId: string, expiry = 60, clean = false): IClientOptions => ({
  clientId,
  clean,
  properties: { sessionExpiryInterval: expiry },
});

describe('CONNECT (§3.1)', () => {
  it('[MQTT-3.1.2-1] a protocol name other than "MQTT" gets no successful CONNACK and the connection is closed', async () => {
    const conn = await openRaw(t, 'tcp');
    const bytes = connectPacket();
    bytes.write('MQTX', 4, 'latin1');
    conn.send(bytes);
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').filter((p) => p.reasonCode === 0)).toEqual([]);
  });

  it('[MQTT-3.1.2-2] an unsupported protocol version is answered with a refusing CONNACK, then closed', async () => {
    const conn = await openRaw(t, 'tcp');
    const bytes = connectPacket();
    bytes[FLAGS_AT - 1] = 6;
    conn.send(bytes);
    expect(await closesWithin(conn, 2000)).toBe(true);
    // Answered in the 3.1.1 format (0x01 unacceptable protocol version), which every client version can read.
    expect([...conn.received()]).toEqual([0x20, 0x02, 0x00, 0x01]);
  });

  it('[MQTT-3.1.2-3] [MQTT-3.1.4-1] a reserved Connect Flag of 1 is a Malformed Packet: CONNACK 0x81, then closed', async () => {
    const conn = await openRaw(t, 'tcp');
    const bytes = connectPacket();
    bytes[FLAGS_AT] |= 0x01;
    conn.send(bytes);
    expect(await closesWithin(conn, 2000)).toBe(true);
    const acks = raw5Of(conn).all<IConnackPacket>('connack');
    expect(acks.map((p) => p.reasonCode)).toEqual([0x81]);
  });

  it('[MQTT-3.1.2-11] [MQTT-3.1.2-13] Will QoS or Will Retain set without the Will Flag is malformed: closed without acceptance', async () => {
    for (const bits of [0x08, 0x20]) {
      const conn = await openRaw(t, 'tcp');
      const bytes = connectPacket();
      bytes[FLAGS_AT] |= bits;
      conn.send(bytes);
      expect(await closesWithin(conn, 2000)).toBe(true);
      expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([0x81]);
    }
  });

  it('[MQTT-3.1.2-9] a Will Flag without the will fields in the payload is malformed: CONNACK 0x81, then closed', async () => {
    const conn = await openRaw(t, 'tcp');
    const bytes = connectPacket();
    bytes[FLAGS_AT] |= 0x04;
    conn.send(bytes);
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([0x81]);
  });

  it('[MQTT-3.1.2-12] Will QoS 3 is malformed: CONNACK 0x81, then closed', async () => {
    const conn = await openRaw(t, 'tcp');
    const bytes = connectPacket({ will: { topic: 'x/w', payload: Buffer.from('w'), qos: 2, retain: false } });
    bytes[FLAGS_AT] |= 0x18; // Will QoS bits 11
    conn.send(bytes);
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([0x81]);
  });

  it('[MQTT-3.1.4-2] [MQTT-3.2.2-6] [MQTT-3.2.2-7] [MQTT-3.2.2-8] [MQTT-4.12.0-4] [MQTT-4.13.2-1] [MQTT-3.14.0-1] a refused CONNECT gets its reason code with Session Present 0, no DISCONNECT, then the close', async () => {
    const conn = await openRaw(t, 'tcp');
    conn.send(connectPacket({ password: Buffer.from('bad'), clean: false, properties: { sessionExpiryInterval: 60 } }));
    expect(await closesWithin(conn, 2000)).toBe(true);
    const packets = raw5Of(conn).packets();
    expect(packets.map((p) => p.cmd)).toEqual(['connack']);
    expect(packets[0]).toMatchObject({ reasonCode: 0x86, sessionPresent: false });
    expect(await refusalCode(t.url('tcp'), 5, { username: `u@${ORG_A}`, password: 'forbidden' })).toBe(0x87);
  });

  it('[MQTT-3.1.4-6] nothing sent after a refused CONNECT is processed', async () => {
    const topic = `x/${unique('after-refusal')}`;
    const conn = await openRaw(t, 'tcp');
    const publishRetained = encodePacket(
      { cmd: 'publish', topic, payload: Buffer.from('must not be kept'), qos: 0, retain: true, dup: false },
      5,
    );
    conn.send(Buffer.concat([connectPacket({ password: Buffer.from('bad') }), publishRetained]));
    expect(await closesWithin(conn, 2000)).toBe(true);
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    await sleep(150);
    expect(got).toEqual([]);
  });

  it('[MQTT-3.1.4-5] [MQTT-3.2.0-1] [MQTT-3.2.0-2] [MQTT-3.2.2-1] an accepted CONNECT gets one CONNACK 0x00, first, with the reserved flag bits 0', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp');
    const bytes = r.conn.received();
    expect(bytes[0]).toBe(0x20);
    expect(bytes[2] & 0xfe).toBe(0);
    expect(r.packets().map((p) => p.cmd)).toEqual(['connack', 'pingresp']);
    expect((r.packets()[0] as IConnackPacket).reasonCode).toBe(0);
    r.conn.destroy();
  });

  it('[MQTT-3.1.3-5] a 23-character alphanumeric client id is accepted', async () => {
    const id = `A1b2C3d4E5f6G7h8I9j0K${Math.random().toString(36).slice(2, 4)}`.replace(/[^a-zA-Z0-9]/g, 'z').slice(0, 23);
    expect(id).toHaveLength(23);
    const c = await client5(t, ['x/#'], { clientId: id });
    expect(c.connected).toBe(true);
  });

  it('[MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16] an empty client id gets a new Assigned Client Identifier, used as the session\'s id', async () => {
    const a = await raw5(t, ['x/#'], { clientId: '' });
    const b = await raw5(t, ['x/#'], { clientId: '' });
    const idA = (a.packets()[0] as IConnackPacket).properties?.assignedClientIdentifier;
    const idB = (b.packets()[0] as IConnackPacket).properties?.assignedClientIdentifier;
    expect(typeof idA).toBe('string');
    expect(idA!.length).toBeGreaterThan(0);
    expect(idB).not.toBe(idA);
    // Both sessions live side by side: neither took the other over.
    a.send({ cmd: 'pingreq' });
    b.send({ cmd: 'pingreq' });
    await a.next('pingresp');
    await b.next('pingresp');
    // A client id given explicitly gets none.
    const named = await raw5(t, ['x/#']);
    expect((named.packets()[0] as IConnackPacket).properties?.assignedClientIdentifier).toBeUndefined();
    for (const r of [a, b, named]) r.conn.destroy();
  });

  it('[MQTT-3.1.3-8] a client id the server rejects gets CONNACK 0x85, then the close', async () => {
    const conn = await openRaw(t, 'tcp');
    conn.send(connectPacket({ clientId: 'x'.repeat(300) }));
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([0x85]);
  });

  it('[MQTT-3.1.4-3] [MQTT-3.14.2-1] [MQTT-3.14.2-2] [MQTT-3.14.4-1] [MQTT-3.14.4-2] a second connection with the client id takes over: DISCONNECT 0x8E without Session Expiry, nothing after it, then the close', async () => {
    const clientId = unique('take');
    const cred = unique('cred_');
    const user = unique('u');
    const first = await raw5(t, ['x/#'], { clientId, username: `${user}@${ORG_A}`, password: Buffer.from(`grants:${cred}:x/#`) });
    const second = await client5(t, ['x/#'], { clientId, username: `${user}@${ORG_A}`, password: `grants:${cred}:x/#` });
    expect(await first.serverDisconnect()).toBe(0x8e);
    const packets = first.packets();
    expect(packets[packets.length - 1].cmd).toBe('disconnect');
    expect((packets[packets.length - 1] as IDisconnectPacket).properties?.sessionExpiryInterval).toBeUndefined();
    expect(second.connected).toBe(true);
  });
});

describe('CONNECT properties and will properties (§3.1.2.11, §3.1.3.2, §2.2.2.2)', () => {
  // Every case at codec level: connect-decoder.spec.ts. Here over a socket: the refusal is a CONNACK, then the close.
  it.each([
    ['§3.1.2.11.3 Receive Maximum twice is a Protocol Error', [0x21, 0, 1, 0x21, 0, 2], undefined, 0x82],
    ['§3.1.2.11.7 Request Problem Information 2 is a Protocol Error', [0x17, 2], undefined, 0x82],
    ['§3.1.2.11.10 Authentication Data without Authentication Method is a Protocol Error', [0x16, ...utf8Field('tkn')], undefined, 0x82],
    ['§2.2.2.2 Server Keep Alive in a CONNECT is a Malformed Packet', [0x13, 0, 10], undefined, 0x81],
    ['§3.1.3.2.5 Content Type twice in the will properties is a Protocol Error', [], [0x03, ...utf8Field('a'), 0x03, ...utf8Field('b')], 0x82],
  ] as [string, number[], number[] | undefined, number][])('[MQTT-3.1.4-1] %s: CONNACK 0x82 / 0x81 as named, then closed', async (_, properties, willProperties, code) => {
    const conn = await openRaw(t, 'tcp');
    conn.send(rawConnect5(properties, willProperties, unique('c')));
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([code]);
  });
});

describe('sessions (§3.1.2.4, §3.1.2.11.2, §4.1)', () => {
  /** Connects (same user and credential each time) and reports Session Present. */
  async function sessionPresent(options: IClientOptions, cred: string, user: string): Promise<[boolean, Awaited<ReturnType<typeof client5>>]> {
    let present = false;
    const c = await client5(t, ['x/#'], { username: `${user}@${ORG_A}`, password: `grants:${cred}:x/#`, ...options }, (cl) =>
      cl.once('connect', (p) => (present = p.sessionPresent)),
    );
    return [present, c];
  }

  it('[MQTT-3.1.2-6] [MQTT-3.1.2-5] [MQTT-3.2.2-3] [MQTT-3.1.3-2] Clean Start 0 creates a session (Session Present 0), then resumes it by client id (Session Present 1) with its subscriptions', async () => {
    const clientId = unique('s');
    const cred = unique('cred_');
    const user = unique('u');
    const [fresh, c1] = await sessionPresent(persistent(clientId), cred, user);
    expect(fresh).toBe(false);
    await subscribe(c1, 'x/sess/+', 1);
    await endClient(c1);
    const [resumed, c2] = await sessionPresent(persistent(clientId), cred, user);
    expect(resumed).toBe(true);
    const got = collect(c2);
    const pub = await client5(t, ['x/#']);
    await publish(pub, 'x/sess/a', 'kept subscription', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery on the resumed subscription');
  });

  it('[MQTT-3.1.2-4] [MQTT-3.1.4-4] [MQTT-3.2.2-2] Clean Start 1 discards the existing session: Session Present 0, subscriptions gone', async () => {
    const clientId = unique('s');
    const cred = unique('cred_');
    const user = unique('u');
    const [, c1] = await sessionPresent(persistent(clientId), cred, user);
    await subscribe(c1, 'x/clean/+', 1);
    await endClient(c1);
    const [present, c2] = await sessionPresent(persistent(clientId, 60, true), cred, user);
    expect(present).toBe(false);
    const got = collect(c2);
    const pub = await client5(t, ['x/#']);
    await publish(pub, 'x/clean/a', 'nobody', { qos: 1 });
    await sleep(150);
    expect(got).toEqual([]);
  });

  it('[MQTT-3.1.2-23] [MQTT-4.1.0-2] the session outlives its connection for the Session Expiry Interval, then is discarded; 0 ends it with the connection', async () => {
    const cred = unique('cred_');
    const user = unique('u');
    const short = unique('s');
    const [, c1] = await sessionPresent(persistent(short, 2), cred, user);
    await endClient(c1);
    const zero = unique('s');
    const [, c2] = await sessionPresent(persistent(zero, 0), cred, user);
    await endClient(c2);
    const [stillThere, c3] = await sessionPresent(persistent(short, 2), cred, user);
    expect(stillThere).toBe(true);
    await endClient(c3);
    await sleep(2600);
    const [expired, c4] = await sessionPresent(persistent(short, 2), cred, user);
    expect(expired).toBe(false);
    await endClient(c4);
    const [zeroPresent] = await sessionPresent(persistent(zero, 60), cred, user);
    expect(zeroPresent).toBe(false);
  });

  it('[MQTT-4.1.0-1] the session is not discarded while its connection is open, however long that is beyond the expiry interval', async () => {
    const cred = unique('cred_');
    const user = unique('u');
    const clientId = unique('s');
    const [, c1] = await sessionPresent(persistent(clientId, 1), cred, user);
    await subscribe(c1, 'x/open/+', 1);
    await sleep(1500);
    const got = collect(c1);
    const pub = await client5(t, ['x/#']);
    await publish(pub, 'x/open/a', 'still subscribed', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    await endClient(c1);
    const [present] = await sessionPresent(persistent(clientId, 1), cred, user);
    expect(present).toBe(true);
  });
});

describe('wills (§3.1.2.5, §3.1.3.2)', () => {
  /** A subscriber to `w/<id>/#` and the will topic of a client under it. */
  async function watcher(): Promise<{ topic: string; got: ReturnType<typeof collect> }> {
    const base = `w/${unique('lwt')}`;
    const s = await client5(t, ['w/#']);
    const got = collect(s);
    await subscribe(s, `${base}/#`, 1, { rap: true });
    return { topic: `${base}/will`, got };
  }

  const withWill = (topic: string, extra: Partial<NonNullable<IConnectPacket['will']>> = {}, fields: Partial<IConnectPacket> = {}) =>
    ({ will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, ...extra }, ...fields }) as Partial<IConnectPacket>;

  it('[MQTT-3.1.2-7] [MQTT-3.1.2-8] [MQTT-3.1.2-14] the will is published, not retained, when the connection closes without DISCONNECT', async () => {
    const { topic, got } = await watcher();
    const r = await raw5(t, ['w/#'], withWill(topic));
    r.conn.destroy();
    await waitFor(() => got.length === 1, 3000, 'will');
    expect(got[0]).toMatchObject({ topic, payload: 'gone', qos: 1, retain: false });
  });

  it('[MQTT-3.1.2-10] [MQTT-3.14.4-3] DISCONNECT 0x00 discards the will; 0x04 publishes it', async () => {
    const { topic, got } = await watcher();
    const normal = await raw5(t, ['w/#'], withWill(topic, { payload: Buffer.from('normal') }));
    normal.send({ cmd: 'disconnect', reasonCode: 0 });
    await normal.conn.closed;
    const withWillCode = await raw5(t, ['w/#'], withWill(topic, { payload: Buffer.from('with-will') }));
    withWillCode.send({ cmd: 'disconnect', reasonCode: 0x04 });
    await waitFor(() => got.length === 1, 3000, 'will of 0x04');
    await sleep(100);
    expect(got.map((m) => m.payload)).toEqual(['with-will']);
  });

  it('[MQTT-3.1.2-15] Will Retain 1 publishes the will as a retained message', async () => {
    const { topic, got } = await watcher();
    const r = await raw5(t, ['w/#'], withWill(topic, { retain: true, payload: Buffer.from('kept') }));
    r.conn.destroy();
    await waitFor(() => got.length === 1, 3000, 'will');
    expect(got[0].retain).toBe(true);
    const late = await client5(t, ['w/#']);
    const lateGot = collect(late);
    await subscribe(late, topic, 1);
    await waitFor(() => lateGot.length === 1, 3000, 'retained will');
    expect(lateGot[0]).toMatchObject({ payload: 'kept', retain: true });
    await publish(late, topic, '', { qos: 1, retain: true });
  });

  it('[MQTT-3.1.3-9] [MQTT-3.1.2-8] a reconnect within the Will Delay Interval cancels the will; without one it is sent once the delay elapses', async () => {
    const { topic, got } = await watcher();
    const cancelled = unique('wd');
    const sent = unique('wd');
    const opts = (clientId: string, payload: string) =>
      withWill(topic, { payload: Buffer.from(payload), properties: { willDelayInterval: 1 } }, {
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 30 },
      });
    const cred = unique('cred_');
    const user = unique('u');
    const same = { username: `${user}@${ORG_A}`, password: Buffer.from(`grants:${cred}:w/#`) };
    const a = await raw5(t, ['w/#'], { ...opts(cancelled, 'cancelled'), ...same });
    const b = await raw5(t, ['w/#'], { ...opts(sent, 'sent'), ...same });
    const started = Date.now();
    a.conn.destroy();
    b.conn.destroy();
    await Promise.all([a.conn.closed, b.conn.closed]);
    await raw5(t, ['w/#'], { clientId: cancelled, clean: false, properties: { sessionExpiryInterval: 30 }, ...same });
    await waitFor(() => got.length === 1, 4000, 'delayed will');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await sleep(300);
    expect(got.map((m) => m.payload)).toEqual(['sent']);
  });

  it('[MQTT-3.1.2-8] a will whose delay outlasts the session is published when the session ends (at once for Session Expiry 0)', async () => {
    const { topic, got } = await watcher();
    const ended = await raw5(t, ['w/#'], withWill(topic, { payload: Buffer.from('at once'), properties: { willDelayInterval: 30 } }));
    ended.conn.destroy();
    await waitFor(() => got.length === 1, 3000, 'will of a session that ends with its connection');
    got.length = 0;
    const r = await raw5(t, ['w/#'], withWill(topic, { properties: { willDelayInterval: 30 } }, {
      clean: false,
      properties: { sessionExpiryInterval: 1 },
    }));
    const started = Date.now();
    r.conn.destroy();
    await waitFor(() => got.length === 1, 4000, 'will at session end');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('[MQTT-3.1.3-10] the will keeps its User Properties in order, and its other properties', async () => {
    const { topic, got } = await watcher();
    const properties = {
      userProperties: { b: '2', a: ['1', '3'], c: '0' },
      contentType: 'text/plain',
      responseTopic: 'w/reply',
      correlationData: Buffer.from('corr'),
      payloadFormatIndicator: true,
    };
    const r = await raw5(t, ['w/#'], withWill(topic, { properties }));
    r.conn.destroy();
    await waitFor(() => got.length === 1, 3000, 'will');
    const p = got[0].properties!;
    expect(Object.entries(p.userProperties as object)).toEqual([
      ['b', '2'],
      ['a', ['1', '3']],
      ['c', '0'],
    ]);
    expect(p).toMatchObject({ contentType: 'text/plain', responseTopic: 'w/reply', payloadFormatIndicator: true });
    expect(Buffer.from(p.correlationData as Buffer).toString()).toBe('corr');
  });
});

describe('keepalive (§3.1.2.10, §3.2.2.3.14)', () => {
  it('[MQTT-3.1.2-22] without a packet for 1.5 × Keep Alive the connection is closed (DISCONNECT 0x8D); any packet keeps it open', async () => {
    const idle = await raw5(t, ['x/#'], { keepalive: 2 });
    const busy = await raw5(t, ['x/#'], { keepalive: 2 });
    const ping = setInterval(() => busy.send({ cmd: 'pingreq' }), 500);
    try {
      await sleep(1000);
      expect(idle.conn.isClosed()).toBe(false);
      expect(await idle.serverDisconnect(6000)).toBe(0x8d);
      expect(busy.conn.isClosed()).toBe(false);
    } finally {
      clearInterval(ping);
      busy.conn.destroy();
    }
  });

  it('[MQTT-3.2.2-21] [MQTT-3.2.2-22] a Keep Alive above the server maximum gets Server Keep Alive; one within it is used as sent', async () => {
    const high = await raw5(t, ['x/#'], { keepalive: MAX_KEEPALIVE + 30 });
    expect((high.packets()[0] as IConnackPacket).properties?.serverKeepAlive).toBe(MAX_KEEPALIVE);
    const zero = await raw5(t, ['x/#'], { keepalive: 0 });
    expect((zero.packets()[0] as IConnackPacket).properties?.serverKeepAlive).toBe(MAX_KEEPALIVE);
    const within = await raw5(t, ['x/#'], { keepalive: 10 });
    expect((within.packets()[0] as IConnackPacket).properties?.serverKeepAlive).toBeUndefined();
    for (const r of [high, zero, within]) r.conn.destroy();
  });
});

describe('Request Response Information and Request Problem Information (§3.1.2.11.6, §3.1.2.11.7)', () => {
  it('[MQTT-3.1.2-28] with Request Response Information 0 the CONNACK carries no Response Information', async () => {
    for (const requestResponseInformation of [false, true]) {
      const r = await raw5(t, ['x/#'], { properties: { requestResponseInformation } });
      const connack = r.packets()[0] as IConnackPacket;
      expect(connack.reasonCode).toBe(0);
      // The edge offers no Response Information, asked for or not (it MAY omit it).
      expect(connack.properties?.responseInformation).toBeUndefined();
      r.conn.destroy();
    }
  });

  it('[MQTT-3.1.2-29] with Request Problem Information 0, no Reason String or User Property on PUBACK, SUBACK or UNSUBACK', async () => {
    const r = await raw5(t, ['x/#'], { properties: { requestProblemInformation: false } });
    r.send({ cmd: 'publish', topic: 'denied/t', payload: Buffer.from('p'), qos: 1, messageId: 3, retain: false, dup: false });
    r.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'denied/#', qos: 1 }] });
    r.send({ cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['never/subscribed'] });
    const puback = await r.next<IPubackPacket>('puback');
    const suback = await r.next<ISubackPacket>('suback');
    const unsuback = await r.next('unsuback');
    expect(puback.reasonCode).toBe(0x87);
    expect(suback.granted).toEqual([0x87]);
    for (const p of [puback, suback, unsuback]) {
      const props = (p as { properties?: { reasonString?: string; userProperties?: object } }).properties;
      expect(props?.reasonString).toBeUndefined();
      expect(props?.userProperties).toBeUndefined();
    }
    r.conn.destroy();
  });
});

describe('Authentication Method (§4.12)', () => {
  it('[MQTT-4.12.0-1] an unsupported Authentication Method gets CONNACK 0x8C, then the close', async () => {
    const conn = await openRaw(t, 'tcp');
    conn.send(connectPacket({ properties: { authenticationMethod: 'SCRAM-SHA-1' } }));
    expect(await closesWithin(conn, 2000)).toBe(true);
    expect(raw5Of(conn).all<IConnackPacket>('connack').map((p) => p.reasonCode)).toEqual([0x8c]);
  });

  it('[MQTT-4.12.0-5] a successful CONNACK names the Authentication Method of the CONNECT', async () => {
    const r = await raw5(t, ['x/#'], { properties: { authenticationMethod: 'signet-token' } });
    const connack = r.packets()[0] as IConnackPacket;
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.authenticationMethod).toBe('signet-token');
    r.conn.destroy();
  });

  it('[MQTT-4.12.0-6] [MQTT-4.12.0-7] without an Authentication Method: none in CONNACK, no AUTH from the server, and an AUTH from the client is a Protocol Error', async () => {
    const r = await raw5(t, ['x/#']);
    expect((r.packets()[0] as IConnackPacket).properties?.authenticationMethod).toBeUndefined();
    r.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'signet-token', authenticationData: Buffer.from('x') } });
    expect(await r.serverDisconnect()).toBe(0x82);
    expect(r.all('auth')).toEqual([]);
  });
});

describe('DISCONNECT from the client (§3.14)', () => {
  it('[MQTT-3.14.1-1] a DISCONNECT with reserved flag bits set is malformed: the connection is closed', async () => {
    const r = await raw5(t, ['x/#']);
    r.conn.send(Buffer.from([0xe1, 0x00]));
    expect(await closesWithin(r.conn, 2000)).toBe(true);
  });

  it('a non-zero Session Expiry Interval on DISCONNECT after 0 at CONNECT is a Protocol Error (§3.14.2.2.2): DISCONNECT 0x82', async () => {
    const c = await client5(t, ['x/#'], { properties: { sessionExpiryInterval: 0 } });
    const code = nextServerDisconnect(c);
    c.end(false, { reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    expect(await code).toBe(0x82);
    await whenClosed(c);
  });
});
