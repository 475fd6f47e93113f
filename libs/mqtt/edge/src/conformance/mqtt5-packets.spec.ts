/**
 * MQTT 5.0 conformance: packet format and error handling (§1.5, §2, §4.13), reserved fixed-header flags,
 * the reason codes and properties the server puts in its own packets, capabilities it declares in
 * CONNACK, PINGREQ, and MQTT over WebSocket (§6). Table: docs/conformance/mqtt-5.0.md.
 */
import WebSocket from 'ws';
import type { IConnackPacket, IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import {
  closesWithin,
  collect,
  connectBytes,
  decodeAll,
  encodePacket,
  openRaw,
  ORG_A,
  sleep,
  waitFor,
  type TestEdge,
} from '../testing/helpers';
import { client5, publish, raw5, raw5Of, subscribe, unique, useEdge5 } from '../testing/mqtt5-harness';

let t: TestEdge;
useEdge5((edge) => (t = edge));

/** Reason codes each packet type may carry (5.0 §3.2.2.2, §3.4.2.1 … §3.15.2.1). */
const ALLOWED: Record<string, number[]> = {
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrec: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92],
  pubcomp: [0x00, 0x92],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
};

describe('reserved flags and malformed packets (§2.1.3, §4.13)', () => {
  it.each([
    ['[MQTT-3.8.1-1] SUBSCRIBE', [0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x78, 0x00]],
    ['[MQTT-3.6.1-1] PUBREL', [0x60, 0x02, 0x00, 0x01]],
    ['[MQTT-3.15.1-1] AUTH', [0xf1, 0x00]],
    ['PINGREQ', [0xc4, 0x00]],
  ])('[MQTT-2.1.3-1] [MQTT-4.13.1-1] %s with wrong reserved fixed-header flags is malformed: the connection is closed', async (_name, bytes) => {
    const r = await raw5(t, ['x/#']);
    r.conn.send(Buffer.from(bytes));
    const code = await r.serverDisconnect();
    expect([-1, 0x81]).toContain(code);
  });

  it('[MQTT-4.13.1-1] a packet of the reserved type 0 closes the connection', async () => {
    const r = await raw5(t, ['x/#']);
    r.conn.send(Buffer.from([0x00, 0x00]));
    expect([0x81, 0x82]).toContain(await r.serverDisconnect());
  });

  it('[MQTT-3.6.1-1] the server\'s PUBREL has the fixed-header flags 0010', async () => {
    const topic = `x/${unique('rel')}`;
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] });
    await r.next('suback');
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'q2', { qos: 2 });
    const p = await r.next<IPublishPacket>('publish');
    const before = r.conn.received().length;
    r.send({ cmd: 'pubrec', messageId: p.messageId! });
    await r.next('pubrel');
    expect(r.conn.received()[before]).toBe(0x62);
  });
});

describe('what the server sends (§1.5, §2.2, §3)', () => {
  it('[MQTT-1.5.5-1] [MQTT-2.2.2-1] Remaining Lengths use the fewest bytes; a SUBACK without properties carries a Property Length of 0', async () => {
    const topic = `x/${unique('vbi')}`;
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
    await r.next('suback');
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'p'.repeat(200), { qos: 0 });
    await r.next('publish');
    // Walk the stream packet by packet: each length has no superfluous continuation byte.
    const bytes = r.conn.received();
    let i = 0;
    let subacks = 0;
    while (i < bytes.length) {
      let length = 0;
      let mult = 1;
      let j = i + 1;
      for (;;) {
        const b = bytes[j++];
        length += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) break;
      }
      const used = j - i - 1;
      expect(used).toBe(length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4);
      if (bytes[i] >> 4 === 9) {
        // SUBACK: Packet Identifier, then the Property Length.
        expect(bytes[j + 2]).toBe(0);
        subacks++;
      }
      i = j + length;
    }
    expect(i).toBe(bytes.length);
    expect(subacks).toBe(1);
  });

  it('[MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1] [MQTT-3.7.2-1] [MQTT-3.9.3-2] [MQTT-3.11.3-2] acknowledgements carry only the reason codes of their packet type', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'publish', topic: 'denied/a', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false });
    r.send({ cmd: 'publish', topic: 'denied/a', payload: Buffer.from('2'), qos: 2, messageId: 2, retain: false, dup: false });
    r.send({ cmd: 'publish', topic: 'x/ok', payload: Buffer.from('3'), qos: 2, messageId: 3, retain: false, dup: false });
    r.send({ cmd: 'pubrel', messageId: 3 });
    r.send({ cmd: 'pubrel', messageId: 99 });
    r.send({ cmd: 'pubrec', messageId: 98 });
    r.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'x/a', qos: 2 }, { topic: 'denied/a', qos: 0 }, { topic: 'x/#/', qos: 0 }] });
    r.send({ cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['x/a', 'x/none'] });
    await r.next('unsuback');
    const seen: Record<string, number[]> = {};
    for (const p of r.packets().slice(1)) {
      const codes = 'granted' in p ? (p.granted as number[]) : [(p as { reasonCode?: number }).reasonCode ?? 0];
      (seen[p.cmd] ??= []).push(...codes);
    }
    expect(Object.keys(seen).sort()).toEqual(['puback', 'pubcomp', 'pubrec', 'pubrel', 'suback', 'unsuback']);
    for (const [cmd, codes] of Object.entries(seen)) for (const code of codes) expect(ALLOWED[cmd]).toContain(code);
    // The refusals are there, not only successes.
    expect(seen.puback).toEqual([0x87]);
    expect(seen.pubcomp).toEqual([0x00, 0x92]);
    expect(seen.pubrel).toEqual([0x92]);
  });

  it('[MQTT-3.2.2-19] [MQTT-3.2.2-20] [MQTT-3.4.2-2] [MQTT-3.4.2-3] [MQTT-3.5.2-2] [MQTT-3.5.2-3] [MQTT-3.6.2-2] [MQTT-3.6.2-3] [MQTT-3.7.2-2] [MQTT-3.7.2-3] [MQTT-3.9.2-1] [MQTT-3.9.2-2] [MQTT-3.11.2-1] [MQTT-3.11.2-2] [MQTT-3.14.2-3] [MQTT-3.14.2-4] no Reason String or User Property that could push a packet past the client\'s Maximum Packet Size', async () => {
    const r = await raw5(t, ['x/#'], { properties: { maximumPacketSize: 128 } });
    r.send({ cmd: 'publish', topic: 'denied/a', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false });
    r.send({ cmd: 'publish', topic: 'denied/a', payload: Buffer.from('2'), qos: 2, messageId: 2, retain: false, dup: false });
    r.send({ cmd: 'pubrel', messageId: 99 });
    r.send({ cmd: 'pubrec', messageId: 98 });
    r.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'denied/#', qos: 0 }] });
    r.send({ cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['x/none'] });
    await r.next('unsuback');
    r.send({ cmd: 'publish', topic: 'x/#', payload: Buffer.from('bad'), qos: 0, retain: false, dup: false });
    await r.serverDisconnect();
    const packets = r.packets();
    expect(packets.map((p) => p.cmd)).toEqual(['connack', 'puback', 'pubrec', 'pubcomp', 'pubrel', 'suback', 'unsuback', 'disconnect']);
    for (const p of packets) {
      const props = (p as { properties?: { reasonString?: string; userProperties?: object } }).properties;
      expect(props?.reasonString).toBeUndefined();
      expect(props?.userProperties).toBeUndefined();
      expect((p.length ?? 0) + 2).toBeLessThanOrEqual(128);
    }
  });

  it('[MQTT-3.2.2-9] [MQTT-3.2.2-10] [MQTT-3.2.2-12] [MQTT-3.2.2-13] QoS 2 and retained messages are supported: no Maximum QoS or Retain Available 0; a QoS 2 retained will and SUBSCRIBE QoS 2 are accepted', async () => {
    const r = await raw5(t, ['x/#'], { will: { topic: 'x/will', payload: Buffer.from('w'), qos: 2, retain: true } });
    const connack = r.packets()[0] as IConnackPacket;
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.maximumQoS).toBeUndefined();
    expect(connack.properties?.retainAvailable).toBeUndefined();
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/q2', qos: 2 }] });
    expect((await r.next<Packet & { granted: number[] }>('suback')).granted).toEqual([2]);
    r.send({ cmd: 'disconnect', reasonCode: 0 });
  });

  it('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'pingreq' });
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp', 2);
  });
});

describe('strings (§1.5.4)', () => {
  it('[MQTT-1.5.4-3] U+FEFF in a topic is kept as it is, never stripped', async () => {
    const withBom = 'x/\ufeffbom';
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, withBom, 0);
    await subscribe(s, 'x/bom', 0);
    const pub = await client5(t, ['x/#']);
    await publish(pub, withBom, 'kept', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    await sleep(100);
    expect(got.map((m) => m.topic)).toEqual([withBom]);
  });

  it('[MQTT-1.5.4-1] [MQTT-3.3.2-1] ill-formed UTF-8 in a PUBLISH topic is a Malformed Packet: DISCONNECT 0x81', async () => {
    const r = await raw5(t, ['x/#']);
    // PUBLISH QoS 0, topic "x/" + 0xC3 0x28 (ill-formed), no properties, payload "z".
    r.conn.send(Buffer.from([0x30, 0x08, 0x00, 0x04, 0x78, 0x2f, 0xc3, 0x28, 0x00, 0x7a]));
    expect(await r.serverDisconnect()).toBe(0x81);
  });

  it('[MQTT-1.5.4-2] a topic with U+0000 is refused (DISCONNECT 0x90)', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'publish', topic: 'x/\u0000', payload: Buffer.from('z'), qos: 0, retain: false, dup: false });
    expect(await r.serverDisconnect()).toBe(0x90);
  });
});

describe('UTF-8 strings inside properties (§1.5.4, §1.5.7)', () => {
  /** Stands for three bytes in a generated packet, replaced by the bytes under test (same length, so no length changes). */
  const MARK = '~#~';
  const BAD: [string, number[]][] = [
    ['ill-formed UTF-8', [0xc3, 0x28, 0x41]],
    ['a surrogate code point', [0xed, 0xa0, 0x80]],
    ['U+0000', [0x41, 0x00, 0x41]],
  ];
  function patched(packet: Packet, bytes: number[]): Buffer {
    const frame = encodePacket(packet, 5);
    const at = frame.indexOf(MARK);
    if (at < 0 || frame.indexOf(MARK, at + 1) >= 0) throw new Error('the packet must hold the mark once');
    Buffer.from(bytes).copy(frame, at);
    return frame;
  }
  const publishWith = (properties: object): Packet =>
    ({ cmd: 'publish', topic: 'x/p', payload: Buffer.from('z'), qos: 0, retain: false, dup: false, properties }) as Packet;
  const CASES: [string, Packet][] = [
    ['[MQTT-1.5.7-1] a PUBLISH User Property name', publishWith({ userProperties: { [MARK]: 'v' } })],
    ['[MQTT-1.5.7-1] a PUBLISH User Property value', publishWith({ userProperties: { a: 'ok', k: ['v', MARK] } })],
    ['[MQTT-3.3.2-19] a PUBLISH Content Type', publishWith({ contentType: MARK })],
    ['[MQTT-3.3.2-13] a PUBLISH Response Topic', publishWith({ responseTopic: `x/${MARK}`, correlationData: Buffer.from([0xc3, 0x28]) })],
    ['a PUBACK Reason String', { cmd: 'puback', messageId: 7, reasonCode: 0x80, properties: { reasonString: MARK } } as Packet],
    ['[MQTT-1.5.7-1] a SUBSCRIBE User Property', { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/s', qos: 0 }], properties: { userProperties: { k: MARK } } } as Packet],
    ['an UNSUBSCRIBE User Property', { cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['x/s'], properties: { userProperties: { k: MARK } } } as Packet],
    ['a DISCONNECT Reason String', { cmd: 'disconnect', reasonCode: 0, properties: { reasonString: MARK } } as Packet],
  ];
  const PACKET_CASES = CASES.flatMap(([where, packet]) => BAD.map(([what, bytes]) => [where, what, packet, bytes] as const));

  it.each(PACKET_CASES)('[MQTT-1.5.4-1] [MQTT-1.5.4-2] %s with %s is a Malformed Packet: DISCONNECT 0x81, nothing delivered', async (_where, _what, packet, bytes) => {
    const sub = await client5(t, ['x/#']);
    const got = collect(sub);
    expect(await subscribe(sub, 'x/#')).toEqual([0]);
    const r = await raw5(t, ['x/#']);
    r.conn.send(patched(packet, bytes));
    expect(await r.serverDisconnect()).toBe(0x81);
    await sleep(50);
    expect(got).toHaveLength(0);
  });

  it('[MQTT-1.5.7-1] [MQTT-1.5.4-1] well-formed property strings, a real U+FFFD and binary Correlation Data included, are forwarded unchanged', async () => {
    const sub = await client5(t, ['x/#']);
    const got = collect(sub);
    expect(await subscribe(sub, 'x/#')).toEqual([0]);
    const r = await raw5(t, ['x/#']);
    const correlationData = Buffer.from([0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80]);
    r.send(publishWith({ userProperties: { 'n\uFFFD': 'v\uFFFDé' }, contentType: 'text/\uFFFD', correlationData, responseTopic: 'x/r' }));
    await waitFor(() => got.length === 1, 3000, 'the message');
    const props = got[0].properties!;
    expect(props.userProperties).toEqual({ 'n\uFFFD': 'v\uFFFDé' });
    expect(props.contentType).toBe('text/\uFFFD');
    expect(Buffer.from(props.correlationData as Buffer)).toEqual(correlationData);
    expect(r.conn.isClosed()).toBe(false);
  });

  const CONNECT_CASES: [string, Partial<IConnectPacket>][] = [
    ['[MQTT-1.5.7-1] a CONNECT User Property', { properties: { userProperties: { k: MARK } } }],
    ['a CONNECT Authentication Method', { properties: { authenticationMethod: MARK } }],
    ['[MQTT-1.5.7-1] a will User Property', { will: { topic: 'x/w', payload: Buffer.from('w'), qos: 0, retain: false, properties: { userProperties: { [MARK]: 'v' } } } }],
    ['a will Content Type', { will: { topic: 'x/w', payload: Buffer.from('w'), qos: 0, retain: false, properties: { contentType: MARK } } }],
  ];
  it.each(CONNECT_CASES.flatMap(([where, fields]) => BAD.map(([what, bytes]) => [where, what, fields, bytes] as const)))(
    '[MQTT-1.5.4-1] [MQTT-1.5.4-2] %s with %s is a Malformed Packet: CONNACK 0x81, then closed',
    async (_where, _what, fields, bytes) => {
      const conn = await openRaw(t, 'tcp');
      const r = raw5Of(conn);
      const connect = {
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 60, clientId: unique('utf'),
        username: `${unique('r')}@${ORG_A}`, password: Buffer.from(`grants:${unique('cred_')}:x/#`), ...fields,
      } as IConnectPacket;
      conn.send(patched(connect, bytes));
      expect((await r.next<IConnackPacket>('connack')).reasonCode).toBe(0x81);
      expect(await closesWithin(conn, 3000)).toBe(true);
      conn.destroy();
    },
  );
});

describe('MQTT over WebSocket (§6)', () => {
  function openWs(protocols: string[]): Promise<{ ws: WebSocket; data: Buffer[]; binary: boolean[]; closed: Promise<void> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${t.ports.ws}/mqtt`, protocols);
    const data: Buffer[] = [];
    const binary: boolean[] = [];
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      data.push(Buffer.from(d));
      binary.push(isBinary);
    });
    ws.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, data, binary, closed }));
      ws.once('error', reject);
      ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
    });
  }

  it('[MQTT-6.0.0-4] [MQTT-6.0.0-3] the server selects the subprotocol "mqtt"; an upgrade without it is refused', async () => {
    const { ws } = await openWs(['mqtt']);
    expect(ws.protocol).toBe('mqtt');
    ws.terminate();
    await expect(openWs(['not-mqtt'])).rejects.toThrow('upgrade refused');
  });

  it('[MQTT-6.0.0-1] [MQTT-6.0.0-2] packets travel in binary frames, may be split across frames or share one; a text frame closes the connection', async () => {
    const { ws, data, binary } = await openWs(['mqtt']);
    const hello = connectBytes(5, unique('ws'), `ws@${ORG_A}`, `grants:${unique('cred_')}:x/#`);
    ws.send(hello.subarray(0, 5), { binary: true });
    ws.send(Buffer.concat([hello.subarray(5), Buffer.from([0xc0, 0x00, 0xc0])]), { binary: true });
    ws.send(Buffer.from([0x00]), { binary: true });
    await waitFor(() => decodeAll(Buffer.concat(data), 5).filter((p) => p.cmd === 'pingresp').length === 2, 3000, 'two PINGRESPs');
    expect(binary.every((b) => b)).toBe(true);
    const text = await openWs(['mqtt']);
    text.ws.send('hello');
    await text.closed;
    ws.terminate();
  });
});
