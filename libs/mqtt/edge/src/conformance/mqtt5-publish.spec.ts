/**
 * MQTT 5.0 conformance: PUBLISH and its flows (§3.3 to §3.7, §4.3 to §4.6), retained messages, message
 * expiry, forwarded properties (request/response, user properties), flow control with the client's
 * Receive Maximum (§4.9) and its Maximum Packet Size (§3.1.2.11.4). Table: docs/conformance/mqtt-5.0.md.
 */
import type {
  IConnackPacket,
  IConnectPacket,
  IPubcompPacket,
  IPublishPacket,
  IPubrecPacket,
  IPubrelPacket,
  ISubackPacket,
  IUnsubackPacket,
} from 'mqtt-packet';
import { collect, sleep, waitFor, type TestEdge } from '../testing/helpers';
import { client5, publish, raw5, subscribe, unique, type Raw5, useEdge5 } from '../testing/mqtt5-harness';

let t: TestEdge;
useEdge5((edge) => (t = edge));

/** A raw subscriber to `filter` at `qos` (5.0 CONNECT fields as given), past its SUBACK. */
async function rawSubscriber(filter: string, qos: 0 | 1 | 2, fields: Partial<IConnectPacket> = {}): Promise<Raw5> {
  const r = await raw5(t, ['x/#'], fields);
  r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  await r.next('suback');
  return r;
}

/** Same user and credential across reconnects, so the session can be resumed. */
function owner(): Partial<IConnectPacket> {
  return { username: `${unique('u')}@org_aaaaaaaaaaaa`, password: Buffer.from(`grants:${unique('cred_')}:x/#`) };
}

const publishes = (r: Raw5): IPublishPacket[] => r.all<IPublishPacket>('publish');

describe('QoS flows (§4.3)', () => {
  it('[MQTT-4.3.1-1] [MQTT-3.3.1-2] [MQTT-2.2.1-2] QoS 0 goes out with DUP 0 and no Packet Identifier', async () => {
    const topic = `x/${unique('q0')}`;
    const r = await rawSubscriber(topic, 0);
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'a', { qos: 0 });
    const p = await r.next<IPublishPacket>('publish');
    expect(p).toMatchObject({ qos: 0, dup: false });
    expect(p.messageId).toBeUndefined();
  });

  it('[MQTT-3.3.4-1] [MQTT-4.3.2-4] [MQTT-4.3.3-8] [MQTT-2.2.1-5] the server answers QoS 0 with nothing, QoS 1 with PUBACK and QoS 2 with PUBREC, carrying the Packet Identifier', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'publish', topic: 'x/q', payload: Buffer.from('0'), qos: 0, retain: false, dup: false });
    r.send({ cmd: 'publish', topic: 'x/q', payload: Buffer.from('1'), qos: 1, messageId: 101, retain: false, dup: false });
    r.send({ cmd: 'publish', topic: 'x/q', payload: Buffer.from('2'), qos: 2, messageId: 202, retain: false, dup: false });
    await r.next('pubrec');
    await sleep(50);
    expect(r.packets().slice(1).map((p) => `${p.cmd}:${(p as { messageId?: number }).messageId}`)).toEqual(['puback:101', 'pubrec:202']);
  });

  it('[MQTT-4.3.2-1] [MQTT-4.3.2-2] [MQTT-2.2.1-4] [MQTT-3.3.1-3] QoS 1 to a subscriber: a non-zero unused identifier per message, DUP 0 whatever the publisher\'s DUP', async () => {
    const topic = `x/${unique('q1')}`;
    const r = await rawSubscriber(topic, 1);
    const pub = await raw5(t, ['x/#']);
    for (let i = 1; i <= 3; i++) {
      pub.send({ cmd: 'publish', topic, payload: Buffer.from(`m${i}`), qos: 1, messageId: 7, retain: false, dup: i > 1 });
    }
    await r.next('publish', 3);
    const got = publishes(r);
    expect(got.every((p) => p.qos === 1 && p.dup === false && (p.messageId ?? 0) > 0)).toBe(true);
    expect(new Set(got.map((p) => p.messageId)).size).toBe(3);
  });

  it('[MQTT-4.3.2-5] after PUBACK, a PUBLISH with the same identifier is a new message', async () => {
    const topic = `x/${unique('q1new')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    const pub = await raw5(t, ['x/#']);
    pub.send({ cmd: 'publish', topic, payload: Buffer.from('a'), qos: 1, messageId: 5, retain: false, dup: false });
    await pub.next('puback');
    pub.send({ cmd: 'publish', topic, payload: Buffer.from('b'), qos: 1, messageId: 5, retain: false, dup: true });
    await waitFor(() => got.length === 2, 3000, 'both messages');
    expect(got.map((m) => m.payload)).toEqual(['a', 'b']);
  });

  it('[MQTT-4.3.3-10] [MQTT-4.3.3-11] [MQTT-4.3.3-12] inbound QoS 2: a re-sent PUBLISH before PUBREL is not delivered twice; PUBREL gets PUBCOMP; then the identifier is new', async () => {
    const topic = `x/${unique('q2in')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 2);
    const pub = await raw5(t, ['x/#']);
    const send = (payload: string, dup: boolean): void =>
      pub.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 2, messageId: 9, retain: false, dup });
    send('first', false);
    send('first', true);
    await pub.next('pubrec', 2);
    pub.send({ cmd: 'pubrel', messageId: 9 });
    const pubcomp = await pub.next<IPubcompPacket>('pubcomp');
    expect(pubcomp.messageId).toBe(9);
    send('second', false);
    await waitFor(() => got.length === 2, 3000, 'second message');
    expect(got.map((m) => m.payload)).toEqual(['first', 'second']);
  });

  it('[MQTT-4.3.3-9] after a PUBREC of 0x80 or more, the identifier is new: the next PUBLISH with it is handled', async () => {
    const topic = `x/${unique('q2err')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 2);
    const pub = await raw5(t, ['x/#']);
    pub.send({ cmd: 'publish', topic: 'denied/t', payload: Buffer.from('no'), qos: 2, messageId: 11, retain: false, dup: false });
    expect((await pub.next<IPubrecPacket>('pubrec')).reasonCode).toBe(0x87);
    pub.send({ cmd: 'publish', topic, payload: Buffer.from('yes'), qos: 2, messageId: 11, retain: false, dup: false });
    const rec = await pub.next<IPubrecPacket>('pubrec', 2);
    expect(rec.reasonCode ?? 0).toBe(0);
    await waitFor(() => got.length === 1, 3000, 'delivery');
  });

  it('[MQTT-4.3.3-1] [MQTT-4.3.3-2] [MQTT-4.3.3-3] [MQTT-4.3.3-4] [MQTT-4.3.3-5] outbound QoS 2: PUBLISH (DUP 0), PUBREL on PUBREC with the same identifier, none on a PUBREC of 0x80 or more', async () => {
    const topic = `x/${unique('q2out')}`;
    const r = await rawSubscriber(topic, 2);
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'ok', { qos: 2 });
    await publish(pub, topic, 'refused', { qos: 2 });
    await r.next('publish', 2);
    const [ok, refused] = publishes(r);
    expect(ok).toMatchObject({ qos: 2, dup: false });
    expect(ok.messageId).not.toBe(refused.messageId);
    r.send({ cmd: 'pubrec', messageId: ok.messageId! });
    r.send({ cmd: 'pubrec', messageId: refused.messageId!, reasonCode: 0x80 });
    const rel = await r.next<IPubrelPacket>('pubrel');
    expect(rel.messageId).toBe(ok.messageId);
    await sleep(100);
    expect(r.all('pubrel')).toHaveLength(1);
    r.send({ cmd: 'pubcomp', messageId: ok.messageId! });
  });

  it('[MQTT-4.3.3-13] an inbound QoS 2 flow completes even after the message expired', async () => {
    const pub = await raw5(t, ['x/#']);
    pub.send({
      cmd: 'publish',
      topic: 'x/expiring',
      payload: Buffer.from('e'),
      qos: 2,
      messageId: 21,
      retain: false,
      dup: false,
      properties: { messageExpiryInterval: 1 },
    });
    await pub.next('pubrec');
    await sleep(1200);
    pub.send({ cmd: 'pubrel', messageId: 21 });
    const comp = await pub.next<IPubcompPacket>('pubcomp');
    expect(comp.messageId).toBe(21);
    expect(comp.reasonCode ?? 0).toBe(0);
  });
});

describe('redelivery on reconnect (§4.4)', () => {
  it('[MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.3.2-3] [MQTT-4.3.3-6] [MQTT-4.3.3-7] unacknowledged PUBLISHes are re-sent with DUP and their identifiers, PUBREL instead of an acknowledged QoS 2, expiry not applied, and only on resume', async () => {
    const topic = `x/${unique('redeliver')}`;
    const clientId = unique('rd');
    const who = owner();
    const session = { clientId, clean: false, properties: { sessionExpiryInterval: 60 }, ...who };
    const first = await rawSubscriber(topic, 2, session);
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'q1', { qos: 1 });
    await publish(pub, topic, 'q2-released', { qos: 2 });
    await publish(pub, topic, 'q2-expiring', { qos: 2, properties: { messageExpiryInterval: 1 } });
    await first.next('publish', 3);
    const [q1, q2, q2e] = publishes(first);
    first.send({ cmd: 'pubrec', messageId: q2.messageId! });
    await first.next('pubrel');
    // Nothing is re-sent while the connection stays up.
    await sleep(400);
    expect(publishes(first)).toHaveLength(3);
    first.conn.destroy();
    await first.conn.closed;
    await sleep(1000); // the expiring message's interval passes while it is in flight
    const second = await raw5(t, ['x/#'], session);
    await second.next('publish', 2);
    await second.next('pubrel');
    await sleep(100);
    const again = publishes(second);
    expect(again.map((p) => [p.messageId, p.dup, p.payload.toString()])).toEqual([
      [q1.messageId, true, 'q1'],
      [q2e.messageId, true, 'q2-expiring'],
    ]);
    expect(second.all<IPubrelPacket>('pubrel').map((p) => p.messageId)).toEqual([q2.messageId]);
  });

  it('[MQTT-4.4.0-2] a PUBLISH answered with PUBACK 0x80 or more is not re-sent on resume', async () => {
    const topic = `x/${unique('nack')}`;
    const session = { clientId: unique('nk'), clean: false, properties: { sessionExpiryInterval: 60 }, ...owner() };
    const first = await rawSubscriber(topic, 1, session);
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'refused', { qos: 1 });
    const p = await first.next<IPublishPacket>('publish');
    first.send({ cmd: 'puback', messageId: p.messageId!, reasonCode: 0x80 });
    await sleep(100);
    first.conn.destroy();
    await first.conn.closed;
    const second = await raw5(t, ['x/#'], session);
    await sleep(200);
    expect(publishes(second)).toEqual([]);
  });
});

describe('retained messages (§3.3.1.3)', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-8] RETAIN 1 replaces the retained message of the topic; RETAIN 0 neither stores nor removes it', async () => {
    const topic = `x/${unique('ret')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'one', { qos: 1, retain: true });
    await publish(pub, topic, 'two', { qos: 1, retain: true });
    await publish(pub, topic, 'not retained', { qos: 1, retain: false });
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    await waitFor(() => got.length === 1, 3000, 'retained');
    await sleep(100);
    expect(got.map((m) => [m.payload, m.retain, m.qos])).toEqual([['two', true, 1]]);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });

  it('[MQTT-3.3.1-6] [MQTT-3.3.1-7] a retained PUBLISH with an empty payload is delivered, clears the retained message and is not stored itself', async () => {
    const topic = `x/${unique('clear')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'kept', { qos: 1, retain: true });
    const live = await client5(t, ['x/#']);
    const liveGot = collect(live);
    await subscribe(live, topic, 1);
    await waitFor(() => liveGot.length === 1, 3000, 'retained');
    const before = t.edge.stats().retainedMessages;
    await publish(pub, topic, '', { qos: 1, retain: true });
    await waitFor(() => liveGot.length === 2, 3000, 'the clearing message, delivered normally');
    expect(liveGot[1].payload).toBe('');
    expect(t.edge.stats().retainedMessages).toBe(before - 1);
    const late = await client5(t, ['x/#']);
    const lateGot = collect(late);
    await subscribe(late, topic, 1);
    await sleep(150);
    expect(lateGot).toEqual([]);
  });
});

describe('message expiry (§3.3.2.3.3)', () => {
  it('[MQTT-3.3.2-5] [MQTT-3.3.2-6] [MQTT-4.5.0-1] a queued message past its expiry is not delivered; one still valid carries the remaining interval', async () => {
    const topic = `x/${unique('exp')}`;
    const session = { clientId: unique('ex'), clean: false, properties: { sessionExpiryInterval: 60 }, ...owner() };
    const first = await rawSubscriber(topic, 1, session);
    first.send({ cmd: 'disconnect', reasonCode: 0 });
    await first.conn.closed;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await publish(pub, topic, 'long', { qos: 1, properties: { messageExpiryInterval: 60 } });
    await publish(pub, topic, 'none', { qos: 1 });
    await sleep(2100);
    const second = await raw5(t, ['x/#'], session);
    await second.next('publish', 2);
    await sleep(100);
    const got = publishes(second);
    expect(got.map((p) => p.payload.toString())).toEqual(['long', 'none']);
    const remaining = got[0].properties?.messageExpiryInterval ?? 0;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(58);
    expect(got[1].properties?.messageExpiryInterval).toBeUndefined();
  });

  it('[MQTT-3.3.2-5] an expired retained message is not sent to a new subscriber', async () => {
    const topic = `x/${unique('rexp')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'brief', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    await sleep(1200);
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    await sleep(150);
    expect(got).toEqual([]);
  });
});

describe('forwarded properties (§3.3.2.3)', () => {
  it('[MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20] Payload Format Indicator, Response Topic, Correlation Data, User Properties (in order) and Content Type reach subscribers unaltered', async () => {
    const topic = `x/${unique('props')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    const properties = {
      payloadFormatIndicator: true,
      responseTopic: 'x/replies/42',
      correlationData: Buffer.from([0, 1, 2, 255]),
      userProperties: { z: 'last-first', a: ['1', '2'], m: 'mid' },
      contentType: 'application/json; charset=utf-8',
    };
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, '{"q":1}', { qos: 1, properties });
    await waitFor(() => got.length === 1, 3000, 'delivery');
    const p = got[0].properties!;
    expect(p.payloadFormatIndicator).toBe(true);
    expect(p.responseTopic).toBe('x/replies/42');
    expect([...(p.correlationData as Buffer)]).toEqual([0, 1, 2, 255]);
    expect(Object.entries(p.userProperties as object)).toEqual([
      ['z', 'last-first'],
      ['a', ['1', '2']],
      ['m', 'mid'],
    ]);
    expect(p.contentType).toBe('application/json; charset=utf-8');
  });

  it('[MQTT-3.3.2-15] [MQTT-3.3.2-16] request/response: the responder answers on the Response Topic with the Correlation Data', async () => {
    const responder = await client5(t, ['x/#']);
    await subscribe(responder, 'x/service/requests', 1);
    responder.on('message', (_topic, payload, packet) => {
      const props = packet.properties ?? {};
      void publish(responder, props.responseTopic!, `re:${payload.toString()}`, {
        qos: 1,
        properties: { correlationData: props.correlationData },
      });
    });
    const requester = await client5(t, ['x/#']);
    const answers = collect(requester);
    await subscribe(requester, 'x/service/replies/me', 1);
    await publish(requester, 'x/service/requests', 'ping', {
      qos: 1,
      properties: { responseTopic: 'x/service/replies/me', correlationData: Buffer.from('req-1') },
    });
    await waitFor(() => answers.length === 1, 3000, 'response');
    expect(answers[0].payload).toBe('re:ping');
    expect(Buffer.from(answers[0].properties!.correlationData as Buffer).toString()).toBe('req-1');
  });
});

describe('topic names (§3.3.2.1, §4.7)', () => {
  it('[MQTT-3.3.2-2] [MQTT-4.7.0-1] a Topic Name with a wildcard closes the connection (DISCONNECT 0x90)', async () => {
    for (const topic of ['x/+', 'x/#']) {
      const r = await raw5(t, ['x/#']);
      r.send({ cmd: 'publish', topic, payload: Buffer.from('w'), qos: 0, retain: false, dup: false });
      expect(await r.serverDisconnect()).toBe(0x90);
    }
  });

  it('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set is malformed: DISCONNECT 0x81', async () => {
    const r = await raw5(t, ['x/#']);
    r.conn.send(Buffer.from([0x36, 0x06, 0x00, 0x01, 0x78, 0x00, 0x01, 0x00]));
    expect(await r.serverDisconnect()).toBe(0x81);
  });

  it('[MQTT-3.3.2-3] [MQTT-3.3.4-2] overlapping subscriptions: one copy, at the highest granted QoS, under the published Topic Name', async () => {
    const base = `x/${unique('ov')}`;
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${base}/a`, qos: 0 }, { topic: `${base}/#`, qos: 2 }, { topic: `${base}/+`, qos: 1 }] });
    await r.next('suback');
    const pub = await client5(t, ['x/#']);
    await publish(pub, `${base}/a`, 'once', { qos: 2 });
    const p = await r.next<IPublishPacket>('publish');
    await sleep(100);
    expect(publishes(r)).toHaveLength(1);
    expect(p).toMatchObject({ topic: `${base}/a`, qos: 2 });
  });

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages on one topic are forwarded in the order received', async () => {
    const topic = `x/${unique('order')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 2);
    const pub = await client5(t, ['x/#']);
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) sent.push(publish(pub, topic, `${i}`, { qos: (i % 3) as 0 | 1 | 2 }));
    await Promise.all(sent);
    await waitFor(() => got.length === 30, 3000, 'all messages');
    for (const qos of [0, 1, 2]) {
      const seq = got.filter((m) => m.qos === qos).map((m) => Number(m.payload));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
  });
});

describe('topic aliases, server side (§3.3.2.3.4)', () => {
  it('[MQTT-3.3.2-12] aliases 1 to the Topic Alias Maximum the server sent are accepted', async () => {
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, 'x/alias/#', 0);
    const r = await raw5(t, ['x/#']);
    const max = (r.packets()[0] as { properties?: { topicAliasMaximum?: number } }).properties?.topicAliasMaximum ?? 0;
    expect(max).toBeGreaterThan(0);
    for (const alias of [1, max]) {
      r.send({ cmd: 'publish', topic: `x/alias/${alias}`, payload: Buffer.from('set'), qos: 0, retain: false, dup: false, properties: { topicAlias: alias } });
      r.send({ cmd: 'publish', topic: '', payload: Buffer.from('use'), qos: 0, retain: false, dup: false, properties: { topicAlias: alias } });
    }
    await waitFor(() => got.length === 4, 3000, 'deliveries');
    expect(got.map((m) => m.topic)).toEqual(['x/alias/1', 'x/alias/1', `x/alias/${max}`, `x/alias/${max}`]);
  });

  it('[MQTT-3.1.2-27] without a client Topic Alias Maximum (or with 0) the server sends no Topic Alias', async () => {
    const topic = `x/${unique('noalias')}`;
    const zero = await rawSubscriber(topic, 1, { properties: { topicAliasMaximum: 0 } });
    const without = await rawSubscriber(topic, 1);
    const pub = await client5(t, ['x/#']);
    for (let i = 0; i < 3; i++) await publish(pub, topic, `${i}`, { qos: 1 });
    await zero.next('publish', 3);
    await without.next('publish', 3);
    for (const r of [zero, without]) {
      expect(publishes(r).map((p) => [p.topic, p.properties?.topicAlias])).toEqual(Array(3).fill([topic, undefined]));
    }
  });

  it('[MQTT-3.1.2-26] [MQTT-3.3.2-11] [MQTT-3.3.2-8] the server sends Topic Aliases 1 to the client\'s Topic Alias Maximum, never above: a topic beyond goes with its name', async () => {
    const base = `x/${unique('alias')}`;
    const r = await rawSubscriber(`${base}/#`, 1, { properties: { topicAliasMaximum: 2 } });
    const pub = await client5(t, ['x/#']);
    for (const [level, qos] of [['a', 0], ['a', 1], ['b', 1], ['c', 0], ['a', 0], ['c', 1], ['b', 0]] as const) {
      await publish(pub, `${base}/${level}`, level, { qos });
    }
    await r.next('publish', 7);
    expect(publishes(r).map((p) => [p.topic, p.properties?.topicAlias, p.payload.toString()])).toEqual([
      [`${base}/a`, 1, 'a'],
      ['', 1, 'a'],
      [`${base}/b`, 2, 'b'],
      [`${base}/c`, undefined, 'c'],
      ['', 1, 'a'],
      [`${base}/c`, undefined, 'c'],
      ['', 2, 'b'],
    ]);
  });

  it('[MQTT-3.3.2-7] [MQTT-3.1.2-26] server aliases live with their connection: a real client resolves them, and after a reconnect each topic is sent by name again', async () => {
    const base = `x/${unique('aliasc')}`;
    const who = owner();
    const clientId = unique('alias-c');
    const fields = { ...who, clientId, clean: false, properties: { topicAliasMaximum: 4, sessionExpiryInterval: 60 } };
    const first = await rawSubscriber(`${base}/#`, 1, fields);
    const pub = await client5(t, ['x/#']);
    await publish(pub, `${base}/a`, '1', { qos: 1 });
    await publish(pub, `${base}/a`, '2', { qos: 1 });
    await first.next('publish', 2);
    expect(publishes(first).map((p) => p.topic)).toEqual([`${base}/a`, '']);
    first.conn.destroy();
    await first.conn.closed;
    // Unacknowledged QoS 1 messages are re-sent on the new connection, by topic name first.
    const second = await raw5(t, ['x/#'], fields);
    await second.next('publish', 2);
    expect(publishes(second).map((p) => [p.topic, p.properties?.topicAlias, p.dup])).toEqual([
      [`${base}/a`, 1, true],
      ['', 1, true],
    ]);
    // mqtt.js with a Topic Alias Maximum sees the real topics.
    const real = await client5(t, ['x/#'], { properties: { topicAliasMaximum: 3 } });
    const got = collect(real);
    await subscribe(real, `${base}/#`, 0);
    for (const level of ['p', 'q', 'p', 'p', 'q']) await publish(pub, `${base}/${level}`, level, { qos: 0 });
    await waitFor(() => got.length === 5, 3000, 'five messages');
    expect(got.map((m) => m.topic)).toEqual(['p', 'q', 'p', 'p', 'q'].map((l) => `${base}/${l}`));
  });
});

describe('flow control: the client\'s Receive Maximum (§3.3.4, §4.9)', () => {
  it('[MQTT-3.3.4-9] [MQTT-4.9.0-1] [MQTT-4.9.0-2] no more unacknowledged QoS 1/2 PUBLISHes than the client\'s Receive Maximum; QoS 2 holds its slot until PUBCOMP', async () => {
    const topic = `x/${unique('rm')}`;
    const r = await rawSubscriber(topic, 2, { properties: { receiveMaximum: 2 } });
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'a', { qos: 1 });
    await publish(pub, topic, 'b', { qos: 2 });
    await publish(pub, topic, 'c', { qos: 1 });
    await publish(pub, topic, 'd', { qos: 1 });
    await r.next('publish', 2);
    await sleep(150);
    expect(publishes(r).map((p) => p.payload.toString())).toEqual(['a', 'b']);
    const [a, b] = publishes(r);
    // PUBREC alone does not free the QoS 2 slot.
    r.send({ cmd: 'pubrec', messageId: b.messageId! });
    await r.next('pubrel');
    await sleep(150);
    expect(publishes(r)).toHaveLength(2);
    r.send({ cmd: 'puback', messageId: a.messageId! });
    await r.next('publish', 3);
    await sleep(100);
    expect(publishes(r)).toHaveLength(3);
    r.send({ cmd: 'pubcomp', messageId: b.messageId! });
    await r.next('publish', 4);
    expect(publishes(r).map((p) => p.payload.toString())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('[MQTT-3.3.4-10] [MQTT-4.9.0-3] with the quota at zero, other packets still flow: PINGRESP, SUBACK, UNSUBACK and QoS 0 messages', async () => {
    const topic = `x/${unique('rm0')}`;
    const r = await rawSubscriber(topic, 1, { properties: { receiveMaximum: 1 } });
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'held-1', { qos: 1 });
    await publish(pub, topic, 'held-2', { qos: 1 });
    await r.next('publish');
    r.send({ cmd: 'pingreq' });
    r.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `${topic}-q0`, qos: 0 }] });
    await r.next('pingresp');
    await r.next('suback', 2);
    r.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['x/none'] });
    await r.next('unsuback');
    await publish(pub, `${topic}-q0`, 'free', { qos: 0 });
    await r.next('publish', 2);
    expect(publishes(r).map((p) => p.payload.toString())).toEqual(['held-1', 'free']);
  });

  it('[MQTT-3.3.4-9] a resumed session with a smaller Receive Maximum gets no more unacknowledged PUBLISHes than it', async () => {
    const topic = `x/${unique('rmr')}`;
    const session = { clientId: unique('rr'), clean: false, ...owner() };
    const first = await rawSubscriber(topic, 1, { ...session, properties: { sessionExpiryInterval: 60, receiveMaximum: 4 } });
    const pub = await client5(t, ['x/#']);
    for (let i = 0; i < 4; i++) await publish(pub, topic, `${i}`, { qos: 1 });
    await first.next('publish', 4);
    first.conn.destroy();
    await first.conn.closed;
    const second = await raw5(t, ['x/#'], { ...session, properties: { sessionExpiryInterval: 60, receiveMaximum: 2 } });
    await second.next('publish', 2);
    await sleep(200);
    expect(publishes(second)).toHaveLength(2);
    for (const p of publishes(second)) second.send({ cmd: 'puback', messageId: p.messageId! });
    await second.next('publish', 4);
    const got = publishes(second);
    expect(got.map((p) => p.payload.toString())).toEqual(['0', '1', '2', '3']);
    expect(got.every((p) => p.dup)).toBe(true);
  });
  it('[MQTT-4.3.3-6] [MQTT-3.3.4-9] a message waiting for a slot after resume that the client PUBRECs anyway gets PUBREL, never a re-sent PUBLISH, and keeps its slot', async () => {
    const topic = `x/${unique('rmq2')}`;
    const session = { clientId: unique('rq'), clean: false, ...owner() };
    const first = await rawSubscriber(topic, 2, { ...session, properties: { sessionExpiryInterval: 60, receiveMaximum: 3 } });
    const pub = await client5(t, ['x/#']);
    for (const m of ['a', 'b', 'c']) await publish(pub, topic, m, { qos: 2 });
    await first.next('publish', 3);
    const [a, , c] = publishes(first);
    first.conn.destroy();
    await first.conn.closed;
    const second = await raw5(t, ['x/#'], { ...session, properties: { sessionExpiryInterval: 60, receiveMaximum: 1 } });
    await second.next('publish');
    second.send({ cmd: 'pubrec', messageId: c.messageId! });
    expect((await second.next<IPubrelPacket>('pubrel')).messageId).toBe(c.messageId);
    second.send({ cmd: 'pubrec', messageId: a.messageId! });
    await second.next('pubrel', 2);
    second.send({ cmd: 'pubcomp', messageId: a.messageId! });
    // c, in its PUBREL phase, still holds the only slot.
    await sleep(150);
    expect(publishes(second)).toHaveLength(1);
    second.send({ cmd: 'pubcomp', messageId: c.messageId! });
    await second.next('publish', 2);
    await sleep(150);
    expect(publishes(second).map((p) => [p.payload.toString(), p.dup])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });
});

describe('the client\'s Maximum Packet Size (§3.1.2.11.4)', () => {
  it('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a PUBLISH larger than the client\'s Maximum Packet Size is not sent, and the flow goes on as if it had been', async () => {
    const topic = `x/${unique('mps')}`;
    const r = await rawSubscriber(topic, 1, { properties: { maximumPacketSize: 256, receiveMaximum: 1 } });
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'x'.repeat(1000), { qos: 1 });
    await publish(pub, topic, 'y'.repeat(400), { qos: 0 });
    await publish(pub, topic, 'small', { qos: 1 });
    // Receive Maximum 1 and nothing acknowledged: the small one arrives only if the big one's slot was released.
    const p = await r.next<IPublishPacket>('publish');
    await sleep(100);
    expect(publishes(r).map((x) => x.payload.toString())).toEqual(['small']);
    expect(p.length).toBeLessThanOrEqual(256);
    // Nothing larger reached the client at all.
    expect(r.conn.received().length).toBeLessThan(256 * 3);
  });

  it('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a too-large retained message or resumed message is skipped too', async () => {
    const topic = `x/${unique('mpsr')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'z'.repeat(1000), { qos: 1, retain: true });
    const r = await rawSubscriber(topic, 1, { properties: { maximumPacketSize: 256 } });
    await sleep(150);
    expect(publishes(r)).toEqual([]);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });
  /** The size of every packet the server sent, read from the bytes (fixed header and Remaining Length). */
  function frameSizes(bytes: Buffer): number[] {
    const sizes: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      let length = 0;
      let shift = 0;
      let j = i + 1;
      for (;;) {
        const b = bytes[j++];
        length += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) break;
        shift += 7;
      }
      sizes.push(j - i + length);
      i = j + length;
    }
    return sizes;
  }

  /** A raw 5.0 CONNECT (empty client id: the CONNACK carries an Assigned Client Identifier) and what came back. */
  async function connectWithMax(maximumPacketSize: number | undefined): Promise<Raw5> {
    const properties = maximumPacketSize === undefined ? {} : { properties: { maximumPacketSize } };
    const r = await raw5(t, ['x/#'], { clientId: '', ...properties }, false);
    await waitFor(() => r.all('connack').length > 0 || r.conn.isClosed(), 3000, 'a CONNACK or the close');
    return r;
  }

  it('[MQTT-3.1.2-24] [MQTT-3.2.2-19] [MQTT-3.2.2-20] a CONNACK that would exceed the client\'s Maximum Packet Size goes without its optional properties; below the minimal one the CONNECT is refused with 0x95, or closed with nothing sent', async () => {
    const full = frameSizes((await connectWithMax(undefined)).conn.received())[0];
    const fullConnack = (await connectWithMax(full)).all<IConnackPacket>('connack')[0];
    expect(fullConnack.properties).toMatchObject({ subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: true, topicAliasMaximum: 10 });

    // One byte less: the optional capabilities go (absent means available / no aliases); what the client needs stays.
    const trimmed = await connectWithMax(full - 1);
    const connack = trimmed.all<IConnackPacket>('connack')[0];
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties).toMatchObject({ maximumPacketSize: expect.any(Number) as number, assignedClientIdentifier: expect.any(String) as string });
    expect(connack.properties?.subscriptionIdentifiersAvailable).toBeUndefined();
    expect(connack.properties?.sharedSubscriptionAvailable).toBeUndefined();
    expect(connack.properties?.topicAliasMaximum).toBeUndefined();
    const minimal = frameSizes(trimmed.conn.received())[0];
    expect(minimal).toBeLessThanOrEqual(full - 1);
    // Every fixed-size packet the edge sends afterwards is smaller than that CONNACK: PINGRESP, PUBACK, PUBREC, PUBCOMP, DISCONNECT.
    trimmed.send({ cmd: 'pingreq' });
    trimmed.send({ cmd: 'publish', topic: 'denied/a', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false });
    trimmed.send({ cmd: 'publish', topic: 'x/a', payload: Buffer.from('2'), qos: 2, messageId: 2, retain: false, dup: false });
    trimmed.send({ cmd: 'pubrel', messageId: 2 });
    await trimmed.next('pubcomp');
    trimmed.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'again', clean: true, keepalive: 60 });
    expect(await trimmed.serverDisconnect()).toBe(0x82);
    expect(trimmed.packets().map((p) => p.cmd)).toEqual(['connack', 'pingresp', 'puback', 'pubrec', 'pubcomp', 'disconnect']);
    for (const size of frameSizes(trimmed.conn.received())) expect(size).toBeLessThanOrEqual(full - 1);

    // Below the minimal CONNACK: refused with 0x95 (5 bytes), before authentication.
    const refused = await connectWithMax(minimal - 1);
    expect(await refused.serverDisconnect()).toBe(-1);
    expect(refused.all<IConnackPacket>('connack').map((c) => c.reasonCode)).toEqual([0x95]);
    // Below even that: nothing at all is sent, the connection is closed.
    const silent = await connectWithMax(4);
    await silent.conn.closed;
    expect(silent.conn.received().length).toBe(0);
  });

  it('[MQTT-3.1.2-24] [MQTT-3.9.2-1] [MQTT-3.9.2-2] [MQTT-3.11.2-1] [MQTT-3.11.2-2] a SUBACK or UNSUBACK that would exceed the client\'s Maximum Packet Size is not sent: DISCONNECT 0x95, nothing changed', async () => {
    const who = owner();
    const clientId = unique('mps-sub');
    const fields = { ...who, clientId, clean: false, properties: { maximumPacketSize: 64, sessionExpiryInterval: 60 } };
    const filters = (n: number): string[] => Array.from({ length: n }, (_, i) => `x/${clientId}/${i}`);
    // 59 filters: SUBACK = 2 + 2 + 1 + 59 = 64 bytes, which fits.
    const r = await raw5(t, ['x/#'], fields);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters(59).map((topic) => ({ topic, qos: 1 as const })) });
    const suback = await r.next<ISubackPacket>('suback');
    expect(suback.granted).toHaveLength(59);
    expect(frameSizes(r.conn.received())[1]).toBe(64);
    // 60 filters: 65 bytes. Nothing is subscribed and the connection is closed.
    r.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `x/${clientId}/extra`, qos: 1 }, ...filters(59).map((topic) => ({ topic, qos: 1 as const }))] });
    expect(await r.serverDisconnect()).toBe(0x95);
    expect(r.all('suback')).toHaveLength(1);

    // UNSUBSCRIBE of 60 filters: UNSUBACK would be 65 bytes. Nothing is removed.
    const again = await raw5(t, ['x/#'], fields);
    expect(again.all<IConnackPacket>('connack')[0].sessionPresent).toBe(true);
    again.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: [...filters(59), `x/${clientId}/extra`] });
    expect(await again.serverDisconnect()).toBe(0x95);
    expect(again.all('unsuback')).toHaveLength(0);

    const last = await raw5(t, ['x/#'], fields);
    const pub = await client5(t, ['x/#']);
    await publish(pub, `x/${clientId}/0`, 'kept', { qos: 1 });
    await publish(pub, `x/${clientId}/extra`, 'never subscribed', { qos: 1 });
    const p = await last.next<IPublishPacket>('publish');
    expect(p.payload.toString()).toBe('kept');
    await sleep(100);
    expect(publishes(last)).toHaveLength(1);
    // 59 filters to unsubscribe: UNSUBACK 64 bytes, sent.
    last.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: filters(59) });
    expect((await last.next<IUnsubackPacket>('unsuback')).granted).toEqual(Array(59).fill(0));
    last.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  });
});
