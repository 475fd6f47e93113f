/**
 * Byte-level abuse over both transports: whatever a client sends, the socket
 * is closed (with a 5.0 reason where the version is known) and the edge keeps
 * serving others.
 */
import { randomBytes } from 'node:crypto';
import type { IConnackPacket, IDisconnectPacket, ISubackPacket } from 'mqtt-packet';
import {
  closesWithin,
  connect,
  connectBytes,
  decodeAll,
  encodePacket,
  endAllClients,
  openRaw,
  ORG_A,
  sleep,
  startEdge,
  varInt,
  waitFor,
  type RawConnection,
  type TestEdge,
  type Transport,
  type Version,
} from './testing/helpers';

const MAX_PACKET = 4096;
const CONNECT_TIMEOUT = 400;

let t: TestEdge;

beforeAll(async () => {
  t = await startEdge({ maxPacketSize: MAX_PACKET, connectTimeoutMs: CONNECT_TIMEOUT });
});

afterAll(async () => {
  await endAllClients();
  await t.close();
  expect(t.edge.stats().connections).toBe(0);
});

/** The edge still accepts and serves a well-behaved client. */
async function stillServing(transport: Transport, version: Version): Promise<void> {
  const c = await connect(t.url(transport), version, { username: `ok@${ORG_A}`, password: 'good' });
  expect(c.connected).toBe(true);
  await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
}

const cases: [Transport, Version][] = [
  ['tcp', 4],
  ['tcp', 5],
  ['ws', 4],
  ['ws', 5],
];

describe.each(cases)('raw %s, MQTT version %i', (transport, version) => {
  const v5 = version === 5;
  let n = 0;
  const open = (): Promise<RawConnection> => openRaw(t, transport);
  const hello = (): Buffer => connectBytes(version, `raw-${transport}-${version}-${++n}`, `raw@${ORG_A}`, 'good');
  const lastDisconnect = (conn: RawConnection): number | undefined => {
    const packets = decodeAll(conn.received(), version);
    const d = packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
    return d === undefined ? undefined : (d.reasonCode ?? 0);
  };

  it('closes when the first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
    const c = await open();
    c.send(Buffer.from([0xc0, 0x00])); // PINGREQ
    expect(await closesWithin(c, 1000)).toBe(true);
    expect(c.received().length).toBe(0);
    await stillServing(transport, version);
  });

  it('closes on a second CONNECT [MQTT-3.1.0-2] (5.0: DISCONNECT 0x82)', async () => {
    const c = await open();
    c.send(hello());
    await sleep(50);
    c.send(hello());
    expect(await closesWithin(c, 1000)).toBe(true);
    const packets = decodeAll(c.received(), version);
    expect(packets[0].cmd).toBe('connack');
    if (v5) expect(lastDisconnect(c)).toBe(0x82);
    await stillServing(transport, version);
  });

  it('closes on garbage after CONNECT (5.0: DISCONNECT 0x81 for a malformed packet)', async () => {
    const c = await open();
    c.send(hello());
    await sleep(50);
    // SUBSCRIBE with reserved flags 0000 instead of 0010 [MQTT-3.8.1-1]: malformed.
    c.send(Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]));
    expect(await closesWithin(c, 1000)).toBe(true);
    if (v5) expect(lastDisconnect(c)).toBe(0x81);
    await stillServing(transport, version);
  });

  it('closes on a truncated CONNECT (fields longer than the packet) and on a stalled partial packet', async () => {
    const full = hello();
    // Remaining Length cut to 12: the client id string runs past the end.
    const cut = Buffer.concat([Buffer.from([0x10, 12]), full.subarray(2, 14)]);
    const c = await open();
    c.send(cut);
    expect(await closesWithin(c, 1000)).toBe(true);
    // Half a CONNECT, then silence: closed by the connect timeout.
    const d = await open();
    d.send(full.subarray(0, 10));
    const started = Date.now();
    expect(await closesWithin(d, CONNECT_TIMEOUT + 1000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 100);
    await stillServing(transport, version);
  });

  it('closes a socket that never sends CONNECT after connectTimeoutMs', async () => {
    const c = await open();
    expect(await closesWithin(c, CONNECT_TIMEOUT + 1000)).toBe(true);
  });

  it('refuses an oversized packet (5.0: DISCONNECT 0x95, Maximum Packet Size advertised)', async () => {
    const c = await open();
    c.send(hello());
    await sleep(50);
    const connack = decodeAll(c.received(), version)[0] as IConnackPacket;
    if (v5) expect(connack.properties?.maximumPacketSize).toBe(MAX_PACKET);
    // Only the header of a PUBLISH announcing 100 KiB: refused before the body arrives.
    c.send(Buffer.concat([Buffer.from([0x30]), varInt(100 * 1024), Buffer.from([0x00, 0x01, 0x61])]));
    expect(await closesWithin(c, 1000)).toBe(true);
    if (v5) expect(lastDisconnect(c)).toBe(0x95);
    await stillServing(transport, version);
  });

  it('answers an invalid topic filter with SUBACK 0x80 (5.0: 0x8F)', async () => {
    const c = await open();
    c.send(hello());
    await sleep(50);
    c.send(
      encodePacket(
        { cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'users/raw/#/x', qos: 1 }, { topic: 'users/raw/+', qos: 1 }] },
        version,
      ),
    );
    await sleep(100);
    const suback = decodeAll(c.received(), version).find((p) => p.cmd === 'suback') as ISubackPacket;
    expect(suback.granted).toEqual([v5 ? 0x8f : 0x80, 1]);
    c.destroy();
  });

  it('answers an unsupported protocol level with CONNACK 1', async () => {
    const c = await open();
    const bytes = hello();
    bytes[2 + 2 + 4] = 6; // protocol level byte after "MQTT"
    c.send(bytes);
    expect(await closesWithin(c, 1000)).toBe(true);
    const connack = decodeAll(c.received(), 4)[0] as IConnackPacket;
    expect(connack.returnCode).toBe(1);
  });

  if (!v5) {
    it('refuses an empty client id without clean session with CONNACK 2 [MQTT-3.1.3-8]', async () => {
      const c = await open();
      const bytes = connectBytes(4, '', `raw@${ORG_A}`, 'good');
      bytes[2 + 2 + 4 + 1] = 0xc0; // flags: username + password, clean session 0
      c.send(bytes);
      expect(await closesWithin(c, 1000)).toBe(true);
      expect((decodeAll(c.received(), 4)[0] as IConnackPacket).returnCode).toBe(2);
    });
  }

  it('does not deliver a re-sent QoS 2 PUBLISH twice, and answers PUBREL', async () => {
    const topic = `users/raw/q2-${transport}-${version}`;
    const sub = await connect(t.url(transport), version, { username: `raw@${ORG_A}`, password: 'good' });
    const got: string[] = [];
    sub.on('message', (_t, payload) => got.push(payload.toString()));
    await sub.subscribeAsync(topic, { qos: 2 });
    const c = await open();
    c.send(hello());
    await sleep(50);
    const publish = encodePacket({ cmd: 'publish', topic, payload: Buffer.from('once'), qos: 2, messageId: 42, dup: false, retain: false }, version);
    c.send(publish);
    c.send(Buffer.concat([Buffer.from([publish[0] | 0x08]), publish.subarray(1)])); // same id, DUP set
    await sleep(100);
    c.send(encodePacket({ cmd: 'pubrel', messageId: 42 }, version));
    c.send(encodePacket({ cmd: 'pubrel', messageId: 43 }, version)); // unknown id
    await sleep(150);
    expect(got).toEqual(['once']);
    const acks = decodeAll(c.received(), version).filter((p) => p.cmd !== 'connack');
    expect(acks.map((p) => p.cmd)).toEqual(['pubrec', 'pubrec', 'pubcomp', 'pubcomp']);
    // 5.0: Packet Identifier not found for the unknown PUBREL.
    if (v5) expect((acks[3] as { reasonCode?: number }).reasonCode).toBe(0x92);
    c.destroy();
    await new Promise<void>((resolve) => sub.end(false, {}, () => resolve()));
  });

  it('leaks nothing when the socket closes during an asynchronous authentication', async () => {
    const sessions = t.edge.stats().sessions;
    const c = await open();
    c.send(connectBytes(version, `slow-${transport}-${version}`, `raw@${ORG_A}`, 'slow:200'));
    await sleep(30);
    c.destroy();
    await sleep(300);
    expect(t.edge.stats().sessions).toBe(sessions);
    await waitFor(() => t.edge.stats().connections === 0, 2000, 'socket released');
  });

  it('survives random bytes, before and after CONNECT', async () => {
    const conns: RawConnection[] = [];
    for (let i = 0; i < 60; i++) {
      const c = await open();
      if (i % 2 === 1) c.send(hello());
      c.send(randomBytes(1 + Math.floor(Math.random() * 300)));
      // Sometimes a varint header with random continuation bytes and a random body.
      if (i % 3 === 0) c.send(Buffer.concat([Buffer.from([(i % 16) << 4]), randomBytes(8)]));
      conns.push(c);
    }
    await sleep(100);
    for (const c of conns) c.destroy();
    await Promise.all(conns.map((c) => c.closed));
    // Every socket is gone server-side too: nothing leaks.
    await waitFor(() => t.edge.stats().connections === 0, 2000, 'all sockets closed');
    await stillServing(transport, version);
  });
});
