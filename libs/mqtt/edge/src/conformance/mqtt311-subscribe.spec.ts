/**
 * MQTT 3.1.1 conformance: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (§3.8–3.11) and topic names and
 * filters (§4.7), with raw 3.1.1 clients.
 */
import type { IPublishPacket, ISubackPacket, IUnsubackPacket, Packet } from 'mqtt-packet';
import { sleep } from '../testing/helpers';
import { closesOn, frame, publish311, Raw311, uid, useEdge } from '../testing/raw311';

const edge = useEdge();

/** A SUBSCRIBE body: packet identifier, then filter/options pairs. */
function subscribeBody(id: number, pairs: [string, number][]): Buffer {
  const parts = [Buffer.from([id >> 8, id & 0xff])];
  for (const [filter, options] of pairs) {
    const f = Buffer.from(filter, 'utf8');
    parts.push(Buffer.from([f.length >> 8, f.length & 0xff]), f, Buffer.from([options]));
  }
  return Buffer.concat(parts);
}

/** Publishes `topics` (QoS 1, payload = topic) and returns the topics `sub` received after a short wait. */
async function deliveredTo(sub: Raw311, topics: string[]): Promise<string[]> {
  const pub = await Raw311.connected(edge());
  const before = sub.publishes().length;
  topics.forEach((topic, i) => pub.send(publish311(topic, topic, { qos: 1, id: i + 1 })));
  await pub.waitFor((p) => p.cmd === 'puback', 'PUBACKs', topics.length);
  await sleep(100);
  pub.destroy();
  return sub.publishes().slice(before).map((p) => p.topic);
}

describe('MQTT 3.1.1 SUBSCRIBE validation', () => {
  it('closes on SUBSCRIBE reserved flags other than 0010 [MQTT-3.8.1-1]', async () => {
    await closesOn(edge(), frame(0x80, subscribeBody(1, [['users/conf/a', 0]])));
  });

  it('closes on a SUBSCRIBE without any filter [MQTT-3.8.3-3]', async () => {
    await closesOn(edge(), frame(0x82, Buffer.from([0, 1])));
  });

  it.each([
    ['QoS 3', 0x03],
    ['reserved bits', 0x04],
  ])('closes on requested options with %s [MQTT-3.8.3-4]', async (_what, options) => {
    await closesOn(edge(), frame(0x82, subscribeBody(1, [['users/conf/a', options]])));
  });

  it('closes on SUBSCRIBE and UNSUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]', async () => {
    await closesOn(edge(), frame(0x82, subscribeBody(0, [['users/conf/a', 0]])));
    await closesOn(edge(), frame(0xa2, Buffer.from([0, 0, 0, 1, 0x61])));
  });
});

describe('MQTT 3.1.1 SUBACK', () => {
  it('answers with a SUBACK of the same packet identifier [MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.3.1-7]', async () => {
    const c = await Raw311.connected(edge());
    c.send(frame(0x82, subscribeBody(0x1234, [['users/conf/id', 1]])));
    const [suback] = (await c.waitFor((p) => p.cmd === 'suback', 'SUBACK')) as ISubackPacket[];
    expect(suback).toMatchObject({ messageId: 0x1234, granted: [1] });
    c.destroy();
  });

  it('handles several filters as a sequence, one return code each, in order, from 0/1/2/0x80 [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] [MQTT-3.9.3-2]', async () => {
    const base = `users/conf/${uid('m')}`;
    const c = await Raw311.connected(edge());
    const pairs: [string, number][] = [
      [`${base}/two`, 2],
      ['users/someone-else/#', 1], // outside the grants
      [`${base}/#/bad`, 1], // invalid filter
      [`${base}/zero`, 0],
      [`${base}/one`, 1],
    ];
    c.send(frame(0x82, subscribeBody(5, pairs)));
    const [suback] = (await c.waitFor((p) => p.cmd === 'suback', 'SUBACK')) as ISubackPacket[];
    expect(suback.granted).toEqual([2, 0x80, 0x80, 0, 1]);
    expect(c.of('suback').length).toBe(1);
    expect((await deliveredTo(c, [`${base}/two`, `${base}/zero`, `${base}/one`])).sort()).toEqual([`${base}/one`, `${base}/two`, `${base}/zero`]);
    c.destroy();
  });

  it('replaces a subscription to an identical filter and re-sends retained messages [MQTT-3.8.4-3]', async () => {
    const topic = `users/conf/${uid('r')}`;
    const pub = await Raw311.connected(edge());
    pub.send(publish311(topic, 'kept', { qos: 1, id: 1, retain: true }));
    await pub.waitFor((p) => p.cmd === 'puback', 'PUBACK');
    const c = await Raw311.connected(edge());
    expect(await c.subscribe(topic, 0, 1)).toEqual([0]);
    expect(await c.subscribe(topic, 1, 2)).toEqual([1]);
    await c.waitFor((p) => p.cmd === 'publish', 'retained twice', 2);
    expect(c.publishes().map((p) => [p.payload.toString(), p.retain, p.qos])).toEqual([
      ['kept', true, 0],
      ['kept', true, 1],
    ]);
    // One subscription, now QoS 1: a live message comes once.
    pub.send(publish311(topic, 'live', { qos: 1, id: 2 }));
    await c.waitFor((p) => p.cmd === 'publish', 'live message', 3);
    await sleep(100);
    expect(c.publishes().slice(2).map((p) => [p.payload.toString(), p.qos])).toEqual([['live', 1]]);
    pub.send(publish311(topic, '', { qos: 1, id: 3, retain: true }));
  });

  it('delivers at the lower of the published and the granted QoS [MQTT-3.8.4-6]', async () => {
    const base = `users/conf/${uid('q')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(`${base}/one`, 1, 1);
    await c.subscribe(`${base}/two`, 2, 2);
    const pub = await Raw311.connected(edge());
    pub.send(Buffer.concat([publish311(`${base}/one`, 'a', { qos: 2, id: 1 }), publish311(`${base}/two`, 'b', { qos: 0 })]));
    await c.waitFor((p) => p.cmd === 'publish', 'two messages', 2);
    expect(c.publishes().map((p) => [p.topic, p.qos]).sort()).toEqual([
      [`${base}/one`, 1],
      [`${base}/two`, 0],
    ]);
  });
});

describe('MQTT 3.1.1 topic filters and names', () => {
  it('supports wildcards: # includes the parent level, + exactly one level [MQTT-3.8.3-2] [MQTT-4.7.1-2] [MQTT-4.7.1-3]', async () => {
    const base = `users/conf/${uid('w')}`;
    const hash = await Raw311.connected(edge());
    await hash.subscribe(`${base}/sport/#`, 1);
    const plus = await Raw311.connected(edge());
    await plus.subscribe(`${base}/sport/+`, 1);
    const topics = [`${base}/sport`, `${base}/sport/`, `${base}/sport/tennis`, `${base}/sport/tennis/p1`];
    expect(await deliveredTo(hash, topics)).toEqual(topics);
    expect(plus.publishes().map((p) => p.topic)).toEqual([`${base}/sport/`, `${base}/sport/tennis`]);
  });

  it('refuses filters with a misplaced wildcard or no character with SUBACK 0x80 [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1]', async () => {
    const c = await Raw311.connected(edge());
    const filters = ['users/conf/#/x', 'users/conf/a#', 'users/conf/a+', '', 'users/conf/+/ok'];
    c.send(frame(0x82, subscribeBody(9, filters.map((f) => [f, 0]))));
    const [suback] = (await c.waitFor((p) => p.cmd === 'suback', 'SUBACK')) as ISubackPacket[];
    expect(suback.granted).toEqual([0x80, 0x80, 0x80, 0x80, 0]);
    c.destroy();
  });

  it('closes the connection on a filter holding U+0000 [MQTT-1.5.3-2] [MQTT-4.7.3-2]', async () => {
    await closesOn(edge(), frame(0x82, subscribeBody(9, [['users/conf/a\u0000b', 0]])));
  });

  it('sends the topic name as published, matching the filter [MQTT-3.3.2-3]', async () => {
    const base = `users/conf/${uid('n')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(`${base}/+/b/#`, 0);
    expect(await deliveredTo(c, [`${base}/x/b`, `${base}/yy/b/c/d`, `${base}/x/c`])).toEqual([`${base}/x/b`, `${base}/yy/b/c/d`]);
  });

  it('matches without normalization: case, Unicode forms and U+FEFF are kept as sent [MQTT-4.7.3-4] [MQTT-1.5.3-3]', async () => {
    const base = `users/conf/${uid('u')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(`${base}/Caf\u00e9`, 0, 1);
    await c.subscribe(`${base}/\ufeffa`, 0, 2);
    const got = await deliveredTo(c, [`${base}/Cafe\u0301`, `${base}/CAF\u00c9`, `${base}/caf\u00e9`, `${base}/a`, `${base}/Caf\u00e9`, `${base}/\ufeffa`]);
    expect(got).toEqual([`${base}/Caf\u00e9`, `${base}/\ufeffa`]);
    // The BOM reached the subscriber as its three bytes.
    expect(c.bytes().includes(Buffer.from(`/\ufeffa`, 'utf8'))).toBe(true);
  });
});

describe('MQTT 3.1.1 UNSUBSCRIBE', () => {
  const unsubscribe = (id: number, filters: string[]): Buffer =>
    frame(0xa2, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...filters.map((f) => Buffer.concat([Buffer.from([0, Buffer.byteLength(f)]), Buffer.from(f)]))]));

  it('closes on UNSUBSCRIBE reserved flags other than 0010 [MQTT-3.10.1-1]', async () => {
    await closesOn(edge(), Buffer.from([0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61]));
  });

  it('closes on an UNSUBSCRIBE without any filter [MQTT-3.10.3-2]', async () => {
    await closesOn(edge(), frame(0xa2, Buffer.from([0, 1])));
  });

  it('compares filters character by character, deleting only an identical one [MQTT-3.10.4-1]', async () => {
    const base = `users/conf/${uid('x')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(`${base}/+`, 0, 1);
    await c.subscribe(`${base}/a`, 1, 2);
    c.send(unsubscribe(3, [`${base}/a`, `${base}/#`]));
    await c.waitFor((p) => p.cmd === 'unsuback', 'UNSUBACK');
    // `${base}/+` is still there (at QoS 0); `${base}/a` is gone.
    expect(await deliveredTo(c, [`${base}/a`])).toEqual([`${base}/a`]);
    expect(c.publishes()[0].qos).toBe(0);
  });

  it('answers UNSUBACK with the same identifier, once for several filters, even when none existed [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6]', async () => {
    const base = `users/conf/${uid('y')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(`${base}/1`, 0, 1);
    await c.subscribe(`${base}/2`, 0, 2);
    c.send(unsubscribe(0x0102, [`${base}/1`, `${base}/2`, `${base}/never`]));
    c.send(unsubscribe(0x0203, [`${base}/never`]));
    await c.waitFor((p) => p.cmd === 'unsuback', 'UNSUBACKs', 2);
    await sleep(50);
    expect(c.of<IUnsubackPacket>('unsuback').map((p) => p.messageId)).toEqual([0x0102, 0x0203]);
    expect(await deliveredTo(c, [`${base}/1`, `${base}/2`])).toEqual([]);
  });

  it('stops new messages but completes a QoS 2 delivery already started [MQTT-3.10.4-2] [MQTT-3.10.4-3]', async () => {
    const topic = `users/conf/${uid('z')}`;
    const c = await Raw311.connected(edge());
    await c.subscribe(topic, 2);
    const pub = await Raw311.connected(edge());
    pub.send(publish311(topic, 'started', { qos: 2, id: 1 }));
    const [started] = (await c.waitFor((p) => p.cmd === 'publish', 'PUBLISH')) as IPublishPacket[];
    c.send(unsubscribe(2, [topic]));
    await c.waitFor((p) => p.cmd === 'unsuback', 'UNSUBACK');
    pub.send(publish311(topic, 'after', { qos: 2, id: 2 }));
    c.sendPacket({ cmd: 'pubrec', messageId: started.messageId } as Packet);
    const [pubrel] = await c.waitFor((p) => p.cmd === 'pubrel', 'PUBREL');
    expect((pubrel as { messageId: number }).messageId).toBe(started.messageId);
    await sleep(100);
    expect(c.publishes().map((p) => p.payload.toString())).toEqual(['started']);
  });
});
