/**
 * MQTT 3.1.1 conformance: PUBLISH and the QoS flows (§2.3, §3.3–3.7, §4.3, §4.6), seen from raw
 * 3.1.1 clients on both ends so packet identifiers, flags and order can be asserted byte for byte.
 */
import type { IPublishPacket, IPubrelPacket, Packet } from 'mqtt-packet';
import { sleep, waitFor } from '../testing/helpers';
import { closesOn, frame, publish311, Raw311, uid, useEdge } from '../testing/raw311';

const edge = useEdge();
const ack = (cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', messageId: number): Packet => ({ cmd, messageId }) as Packet;
const ids = (packets: Packet[]): number[] => packets.map((p) => (p as { messageId?: number }).messageId ?? -1);

/** A raw publisher and a raw subscriber (granted `qos`) on a fresh topic. */
async function pair(qos: number): Promise<{ topic: string; pub: Raw311; sub: Raw311 }> {
  const topic = `users/conf/${uid('t')}`;
  const sub = await Raw311.connected(edge());
  expect(await sub.subscribe(topic, qos)).toEqual([qos]);
  const pub = await Raw311.connected(edge());
  return { topic, pub, sub };
}

describe('MQTT 3.1.1 PUBLISH validation', () => {
  it('closes on a PUBLISH with both QoS bits set [MQTT-3.3.1-4]', async () => {
    await closesOn(edge(), publish311('users/conf/q3', 'x', { qos: 3, id: 1 }));
  });

  it('closes on a QoS 1 PUBLISH with packet identifier 0 [MQTT-2.3.1-1]', async () => {
    await closesOn(edge(), publish311('users/conf/id0', 'x', { qos: 1, id: 0 }));
  });

  it('closes on a QoS 0 PUBLISH with DUP set [MQTT-3.3.1-2] [MQTT-4.8.0-1]', async () => {
    await closesOn(edge(), publish311('users/conf/dup0', 'x', { qos: 0, dup: true }));
  });

  it.each(['users/conf/+', 'users/conf/#', '+'])('closes on wildcards in a topic name: %s [MQTT-3.3.2-2] [MQTT-4.7.1-1]', async (topic) => {
    await closesOn(edge(), publish311(topic, 'x'));
  });

  it('closes on an empty topic name [MQTT-4.7.3-1]', async () => {
    await closesOn(edge(), publish311('', 'x'));
  });

  it('closes on U+0000 in a topic name [MQTT-1.5.3-2] [MQTT-4.7.3-2]', async () => {
    await closesOn(edge(), publish311('users/conf/a\u0000b', 'x'));
  });

  it('closes on ill-formed UTF-8 in a topic name [MQTT-1.5.3-1] [MQTT-3.3.2-1]', async () => {
    const bytes = publish311('users/conf/ab', 'x');
    bytes[bytes.length - 3] = 0xc3; // "a" becomes a lead byte followed by "b": ill-formed
    await closesOn(edge(), bytes);
  });

  it('closes on a PUBREL whose reserved flags are not 0010 [MQTT-3.6.1-1]', async () => {
    await closesOn(edge(), Buffer.from([0x60, 0x02, 0x00, 0x01]));
  });

  it('closes on reserved fixed-header flags of PUBACK [MQTT-2.2.2-2]', async () => {
    await closesOn(edge(), Buffer.from([0x41, 0x02, 0x00, 0x01]));
  });

  it.each([
    ['PUBACK', 0x40],
    ['PUBREC', 0x50],
    ['PUBREL', 0x62],
    ['PUBCOMP', 0x70],
  ])('closes on a %s longer than its packet identifier [MQTT-4.8.0-1]', async (_name, first) => {
    await closesOn(edge(), Buffer.from([first, 0x03, 0x00, 0x01, 0x00]));
  });
});

describe('MQTT 3.1.1 QoS flows, the edge receiving', () => {
  it('answers each QoS as Table 3.4 says, with the PUBLISH packet identifier [MQTT-3.3.4-1] [MQTT-2.3.1-6]', async () => {
    const c = await Raw311.connected(edge());
    c.send(Buffer.concat([publish311('users/conf/r', '0'), publish311('users/conf/r', '1', { qos: 1, id: 10 }), publish311('users/conf/r', '2', { qos: 2, id: 11 })]));
    await c.waitFor((p) => p.cmd === 'pubrec', 'PUBREC');
    await sleep(50);
    expect(c.packets().slice(1).map((p) => [p.cmd, (p as { messageId?: number }).messageId])).toEqual([
      ['puback', 10],
      ['pubrec', 11],
    ]);
    c.sendPacket(ack('pubrel', 11));
    const [pubcomp] = await c.waitFor((p) => p.cmd === 'pubcomp', 'PUBCOMP');
    expect(ids([pubcomp])).toEqual([11]);
    c.destroy();
  });

  it('treats a QoS 1 packet identifier as new once acknowledged [MQTT-4.3.2-2]', async () => {
    const { topic, pub, sub } = await pair(1);
    pub.send(publish311(topic, 'first', { qos: 1, id: 7 }));
    await pub.waitFor((p) => p.cmd === 'puback', 'PUBACK');
    pub.send(publish311(topic, 'second', { qos: 1, id: 7, dup: true }));
    await sub.waitFor((p) => p.cmd === 'publish', 'both messages', 2);
    expect(sub.publishes().map((p) => p.payload.toString())).toEqual(['first', 'second']);
  });

  it('delivers a QoS 2 message once until PUBREL, then treats the identifier as new [MQTT-4.3.3-2]', async () => {
    const { topic, pub, sub } = await pair(2);
    pub.send(publish311(topic, 'once', { qos: 2, id: 9 }));
    pub.send(publish311(topic, 'once', { qos: 2, id: 9, dup: true }));
    await pub.waitFor((p) => p.cmd === 'pubrec', 'two PUBRECs', 2);
    pub.sendPacket(ack('pubrel', 9));
    await pub.waitFor((p) => p.cmd === 'pubcomp', 'PUBCOMP');
    pub.send(publish311(topic, 'again', { qos: 2, id: 9 }));
    await sub.waitFor((p) => p.cmd === 'publish', 'two messages', 2);
    await sleep(100);
    expect(sub.publishes().map((p) => p.payload.toString())).toEqual(['once', 'again']);
    expect(ids(pub.of('pubcomp'))).toEqual([9]);
  });

  it('closes the connection when it cannot hold another unreleased QoS 2 message [MQTT-4.8.0-2]', async () => {
    const c = await Raw311.connected(edge());
    // maxInflight (64) QoS 2 messages awaiting PUBREL is what the edge holds per session; one more is refused.
    c.send(Buffer.concat(Array.from({ length: 65 }, (_, i) => publish311('users/conf/flood', 'x', { qos: 2, id: i + 1 }))));
    expect(await c.closesWithin(1500)).toBe(true);
    expect(c.of('pubrec').length).toBe(64);
  });

  it('acknowledges in the order the PUBLISH packets arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3]', async () => {
    const c = await Raw311.connected(edge());
    const order = [5, 3, 9, 1, 7];
    c.send(Buffer.concat(order.flatMap((id) => [publish311('users/conf/o1', 'x', { qos: 1, id }), publish311('users/conf/o2', 'x', { qos: 2, id: id + 100 })])));
    await c.waitFor((p) => p.cmd === 'pubrec', 'PUBRECs', order.length);
    expect(ids(c.of('puback'))).toEqual(order);
    expect(ids(c.of('pubrec'))).toEqual(order.map((id) => id + 100));
    c.destroy();
  });
});

describe('MQTT 3.1.1 QoS flows, the edge sending', () => {
  it('sends QoS 0 with DUP 0 and no packet identifier, whatever the incoming DUP [MQTT-4.3.1-1] [MQTT-2.3.1-5] [MQTT-3.3.1-3]', async () => {
    const { topic, pub, sub } = await pair(0);
    pub.send(publish311(topic, 'p', { qos: 1, id: 3, dup: true }));
    await sub.waitFor((p) => p.cmd === 'publish', 'PUBLISH');
    // After CONNACK (4 bytes) and SUBACK (5): 0x30 is PUBLISH with DUP 0, QoS 0, RETAIN 0, and the
    // Remaining Length is the topic (2 + n) and payload only, no packet identifier.
    expect([...sub.bytes().subarray(9, 11)]).toEqual([0x30, 2 + topic.length + 1]);
  });

  it('sends QoS 1 with DUP 0 and distinct non-zero identifiers while unacknowledged [MQTT-4.3.2-1] [MQTT-2.3.1-4] [MQTT-3.3.1-3]', async () => {
    const { topic, pub, sub } = await pair(1);
    for (let i = 0; i < 5; i++) pub.send(publish311(topic, `m${i}`, { qos: 1, id: 1, dup: i > 0 }));
    const got = (await sub.waitFor((p) => p.cmd === 'publish', 'five messages', 5)) as IPublishPacket[];
    expect(got.every((p) => p.qos === 1 && !p.dup)).toBe(true);
    const sent = ids(got);
    expect(sent.every((id) => id > 0)).toBe(true);
    expect(new Set(sent).size).toBe(5);
  });

  it('completes QoS 2 as sender: PUBREL with the same identifier and flags 0010 after PUBREC [MQTT-4.3.3-1] [MQTT-2.2.2-1]', async () => {
    const { topic, pub, sub } = await pair(2);
    pub.send(publish311(topic, 'two', { qos: 2, id: 4 }));
    const [message] = (await sub.waitFor((p) => p.cmd === 'publish', 'PUBLISH')) as IPublishPacket[];
    expect(message).toMatchObject({ qos: 2, dup: false });
    sub.sendPacket(ack('pubrec', message.messageId!));
    const [pubrel] = (await sub.waitFor((p) => p.cmd === 'pubrel', 'PUBREL')) as IPubrelPacket[];
    expect(pubrel.messageId).toBe(message.messageId);
    const raw = sub.bytes();
    expect(raw[raw.length - 4]).toBe(0x62); // PUBREL with reserved flags 0010
    sub.sendPacket(ack('pubcomp', message.messageId!));
    await sleep(100);
    expect(sub.publishes().length).toBe(1);
  });

  it('sends PUBREL in the order the PUBRECs came [MQTT-4.6.0-4]', async () => {
    const { topic, pub, sub } = await pair(2);
    for (let i = 1; i <= 3; i++) pub.send(publish311(topic, `m${i}`, { qos: 2, id: i }));
    const got = ids(await sub.waitFor((p) => p.cmd === 'publish', 'three messages', 3));
    const order = [got[2], got[0], got[1]];
    sub.send(Buffer.concat(order.map((id) => frame(0x50, Buffer.from([id >> 8, id & 0xff])))));
    await sub.waitFor((p) => p.cmd === 'pubrel', 'PUBRELs', 3);
    expect(ids(sub.of('pubrel'))).toEqual(order);
  });

  it('delivers the messages of one publisher on one topic in order, per QoS [MQTT-4.6.0-5] [MQTT-4.6.0-6]', async () => {
    const { topic, pub, sub } = await pair(2);
    const n = 30;
    const packets: Buffer[] = [];
    for (let i = 0; i < n; i++) packets.push(publish311(topic, `a${i}`, { qos: 1, id: i + 1 }), publish311(topic, `b${i}`));
    pub.send(Buffer.concat(packets));
    // Acknowledge as they come so the inflight window never holds anything back.
    let seen = 0;
    await waitFor(
      () => {
        const got = sub.publishes();
        for (; seen < got.length; seen++) if (got[seen].qos === 1) sub.sendPacket(ack('puback', got[seen].messageId!));
        return got.length >= 2 * n;
      },
      3000,
      'all messages',
    );
    const payloads = sub.publishes().map((p) => p.payload.toString());
    expect(payloads.filter((p) => p.startsWith('a'))).toEqual(Array.from({ length: n }, (_, i) => `a${i}`));
    expect(payloads.filter((p) => p.startsWith('b'))).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
  });

  it('delivers once, at the highest QoS, to overlapping subscriptions [MQTT-3.3.5-1]', async () => {
    const base = `users/conf/${uid('ov')}`;
    const sub = await Raw311.connected(edge());
    await sub.subscribe(`${base}/#`, 0, 1);
    await sub.subscribe(`${base}/+`, 2, 2);
    await sub.subscribe(`${base}/x`, 1, 3);
    const pub = await Raw311.connected(edge());
    pub.send(publish311(`${base}/x`, 'o', { qos: 2, id: 1 }));
    await sub.waitFor((p) => p.cmd === 'publish', 'PUBLISH');
    await sleep(100);
    expect(sub.publishes().map((p) => p.qos)).toEqual([2]);
  });
});
