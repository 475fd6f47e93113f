/**
 * MQTT 5.0 conformance: SUBSCRIBE/SUBACK and UNSUBSCRIBE/UNSUBACK (§3.8 to §3.11), subscription options
 * (No Local, Retain As Published, Retain Handling), topic filters and matching (§4.7) and the delivery
 * guarantees of shared subscriptions (§4.8.2). Shared-subscription syntax, round-robin and subscription
 * identifiers are in edge.mqtt5-features.spec.ts. Table: docs/conformance/mqtt-5.0.md.
 */
import type { IPublishPacket, IPubrelPacket, ISubackPacket, IUnsubackPacket } from 'mqtt-packet';
import { collect, sleep, waitFor, type TestEdge } from '../testing/helpers';
import { client5, publish, raw5, subscribe, unique, type Raw5, useEdge5 } from '../testing/mqtt5-harness';

let t: TestEdge;
useEdge5((edge) => (t = edge));

const publishes = (r: Raw5): IPublishPacket[] => r.all<IPublishPacket>('publish');

describe('SUBSCRIBE and SUBACK (§3.8, §3.9)', () => {
  it('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.2.1-6] [MQTT-3.8.4-5] [MQTT-3.8.4-6] [MQTT-3.9.3-1] [MQTT-3.9.3-2] [MQTT-3.8.4-7] one SUBACK with the packet\'s identifier and a reason code per filter, in order', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({
      cmd: 'subscribe',
      messageId: 4242,
      subscriptions: [
        { topic: 'x/a', qos: 2 },
        { topic: 'denied/a', qos: 1 },
        { topic: 'x/#/bad', qos: 0 },
        { topic: 'x/b', qos: 0 },
        { topic: 'x/c', qos: 1 },
      ],
    });
    const suback = await r.next<ISubackPacket>('suback');
    await sleep(50);
    expect(r.all('suback')).toHaveLength(1);
    expect(suback.messageId).toBe(4242);
    expect(suback.granted).toEqual([2, 0x87, 0x8f, 0, 1]);
  });

  it('[MQTT-3.8.3-2] a SUBSCRIBE without a filter closes the connection', async () => {
    const r = await raw5(t, ['x/#']);
    // Fixed header 0x82, remaining length 3: packet identifier, property length 0, no payload.
    r.conn.send(Buffer.from([0x82, 0x03, 0x00, 0x05, 0x00]));
    expect([0x81, 0x82]).toContain(await r.serverDisconnect());
  });

  it('[MQTT-3.8.3-5] reserved bits of the Subscription Options, or Retain Handling 3, are malformed: DISCONNECT 0x81', async () => {
    for (const options of [0x41, 0x81, 0x31]) {
      const r = await raw5(t, ['x/#']);
      // SUBSCRIBE id 6, no properties, filter "x/a", options byte.
      r.conn.send(Buffer.from([0x82, 0x09, 0x00, 0x06, 0x00, 0x00, 0x03, 0x78, 0x2f, 0x61, options]));
      expect(await r.serverDisconnect()).toBe(0x81);
    }
  });

  it('[MQTT-3.8.3-3] No Local: the publishing connection does not get its own message; others and plain subscriptions do', async () => {
    const topic = `x/${unique('nl')}`;
    const self = await client5(t, ['x/#']);
    const own = collect(self);
    await subscribe(self, topic, 1, { nl: true });
    const other = await client5(t, ['x/#']);
    const theirs = collect(other);
    await subscribe(other, topic, 1, { nl: true });
    await publish(self, topic, 'mine', { qos: 1 });
    await waitFor(() => theirs.length === 1, 3000, 'the other subscriber');
    await sleep(100);
    expect(own).toEqual([]);
    await subscribe(self, topic, 1, { nl: false });
    await publish(self, topic, 'mine again', { qos: 1 });
    await waitFor(() => own.length === 1, 3000, 'own message without No Local');
  });

  it('[MQTT-3.8.4-3] [MQTT-3.8.4-4] a SUBSCRIBE to an existing filter replaces the subscription (its QoS) and, with Retain Handling 0, re-sends the retained message', async () => {
    const topic = `x/${unique('rep')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'kept', { qos: 1, retain: true });
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 0);
    await waitFor(() => got.length === 1, 3000, 'retained');
    expect(await subscribe(s, topic, 1)).toEqual([1]);
    await waitFor(() => got.length === 2, 3000, 'retained again');
    await publish(pub, topic, 'live', { qos: 1 });
    await waitFor(() => got.length === 3, 3000, 'live message');
    await sleep(100);
    expect(got.map((m) => [m.payload, m.qos, m.retain])).toEqual([
      ['kept', 0, true],
      ['kept', 1, true],
      ['live', 1, false],
    ]);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });

  it('[MQTT-3.8.4-8] a message is delivered at the lower of its QoS and the granted QoS', async () => {
    const topic = `x/${unique('minq')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1);
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'q2', { qos: 2 });
    await publish(pub, topic, 'q0', { qos: 0 });
    await waitFor(() => got.length === 2, 3000, 'deliveries');
    expect(got.map((m) => [m.payload, m.qos])).toEqual([
      ['q2', 1],
      ['q0', 0],
    ]);
  });
});

describe('Retain Handling and Retain As Published (§3.3.1.3, §3.8.3.1)', () => {
  it('[MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11] Retain Handling 0 sends retained messages on every SUBSCRIBE, 1 only on a new subscription, 2 never', async () => {
    const topic = `x/${unique('rh')}`;
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'kept', { qos: 1, retain: true });
    const counts: number[] = [];
    for (const rh of [0, 1, 2]) {
      const s = await client5(t, ['x/#']);
      const got = collect(s);
      await subscribe(s, topic, 1, { rh });
      await subscribe(s, topic, 1, { rh });
      await sleep(150);
      counts.push(got.length);
      expect(got.every((m) => m.retain && m.payload === 'kept')).toBe(true);
    }
    expect(counts).toEqual([2, 1, 0]);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });

  it('[MQTT-3.3.1-12] [MQTT-3.3.1-13] Retain As Published 0 clears RETAIN on forwarded messages, 1 keeps it as published', async () => {
    const topic = `x/${unique('rap')}`;
    const plain = await client5(t, ['x/#']);
    const plainGot = collect(plain);
    await subscribe(plain, topic, 1, { rap: false });
    const asPublished = await client5(t, ['x/#']);
    const rapGot = collect(asPublished);
    await subscribe(asPublished, topic, 1, { rap: true });
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'r', { qos: 1, retain: true });
    await publish(pub, topic, 'n', { qos: 1, retain: false });
    await waitFor(() => plainGot.length === 2 && rapGot.length === 2, 3000, 'deliveries');
    expect(plainGot.map((m) => m.retain)).toEqual([false, false]);
    expect(rapGot.map((m) => m.retain)).toEqual([true, false]);
    await publish(pub, topic, '', { qos: 1, retain: true });
  });
});

describe('UNSUBSCRIBE and UNSUBACK (§3.10, §3.11)', () => {
  it('[MQTT-3.10.4-1] [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] [MQTT-3.11.3-1] [MQTT-3.11.3-2] filters are compared character by character; one UNSUBACK with the identifier and a code per filter, in order', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/+/a', qos: 1 }, { topic: 'x/b', qos: 1 }] });
    await r.next('suback');
    r.send({ cmd: 'unsubscribe', messageId: 777, unsubscriptions: ['x/b/a', 'x/b', 'x/+/a', 'x/never'] });
    const unsuback = await r.next<IUnsubackPacket>('unsuback');
    await sleep(50);
    expect(r.all('unsuback')).toHaveLength(1);
    expect(unsuback.messageId).toBe(777);
    expect(unsuback.granted).toEqual([0x11, 0x00, 0x00, 0x11]);
  });

  it('[MQTT-3.10.4-2] [MQTT-3.10.4-3] after UNSUBSCRIBE no new message is sent, but a QoS 2 delivery already started completes', async () => {
    const topic = `x/${unique('unsub')}`;
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] });
    await r.next('suback');
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'started', { qos: 2 });
    const p = await r.next<IPublishPacket>('publish');
    r.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: [topic] });
    await r.next('unsuback');
    await publish(pub, topic, 'after', { qos: 2 });
    r.send({ cmd: 'pubrec', messageId: p.messageId! });
    expect((await r.next<IPubrelPacket>('pubrel')).messageId).toBe(p.messageId);
    await sleep(100);
    expect(publishes(r).map((x) => x.payload.toString())).toEqual(['started']);
  });

  it('[MQTT-3.10.1-1] [MQTT-3.10.3-2] an UNSUBSCRIBE with wrong reserved flags, or without a filter, closes the connection', async () => {
    const badFlags = await raw5(t, ['x/#']);
    badFlags.conn.send(Buffer.from([0xa0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x78]));
    expect(await badFlags.serverDisconnect()).toBe(0x81);
    const empty = await raw5(t, ['x/#']);
    empty.conn.send(Buffer.from([0xa2, 0x03, 0x00, 0x01, 0x00]));
    expect([0x81, 0x82]).toContain(await empty.serverDisconnect());
  });
});

describe('topic filters and matching (§4.7)', () => {
  it('[MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.3-1] misplaced wildcards and empty filters get SUBACK 0x8F; well-placed ones are granted', async () => {
    const r = await raw5(t, ['#']);
    const bad = ['x/#/y', 'x#', 'x/a#', 'x/+y', '+x/y', ''];
    const good = ['+', '#', '+/+/#', 'x/+/y', 'x/#'];
    r.send({ cmd: 'subscribe', messageId: 3, subscriptions: [...bad, ...good].map((topic) => ({ topic, qos: 0 as const })) });
    const suback = await r.next<ISubackPacket>('suback');
    expect(suback.granted).toEqual([...bad.map(() => 0x8f), ...good.map(() => 0)]);
  });

  it('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async () => {
    const admin = await client5(t, ['#', '$SYS/#', '$x/#']);
    const wild = collect(admin);
    await subscribe(admin, '#', 0);
    await subscribe(admin, '+/status', 0);
    const dollar = await client5(t, ['#', '$SYS/#', '$x/#']);
    const got = collect(dollar);
    await subscribe(dollar, '$x/#', 0);
    await publish(admin, '$x/status', 'sys', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'explicit $ subscription');
    await sleep(100);
    expect(wild.filter((m) => m.topic.startsWith('$'))).toEqual([]);
  });

  it('[MQTT-4.7.3-4] matching applies no normalization: case and Unicode normal forms are distinct', async () => {
    const composed = 'x/caf\u00e9';
    const decomposed = 'x/cafe\u0301';
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, composed, 0);
    await subscribe(s, 'x/Case', 0);
    const pub = await client5(t, ['x/#']);
    await publish(pub, decomposed, 'nfd', { qos: 1 });
    await publish(pub, 'x/case', 'lower', { qos: 1 });
    await publish(pub, composed, 'nfc', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'exact match');
    await sleep(100);
    expect(got.map((m) => [m.topic, m.payload])).toEqual([[composed, 'nfc']]);
  });

  it('[MQTT-4.7.3-2] [MQTT-1.5.4-2] a filter with U+0000 closes the connection (DISCONNECT 0x81); so does a topic with it (0x90)', async () => {
    const r = await raw5(t, ['x/#']);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/a\u0000b', qos: 0 }] });
    expect(await r.serverDisconnect()).toBe(0x81);
    const p = await raw5(t, ['x/#']);
    p.send({ cmd: 'publish', topic: 'x/a\u0000b', payload: Buffer.from('z'), qos: 0, retain: false, dup: false });
    expect(await p.serverDisconnect()).toBe(0x90);
  });

  it('[MQTT-4.7.3-1] an empty Topic Name without a Topic Alias closes the connection', async () => {
    const r = await raw5(t, ['x/#']);
    // PUBLISH QoS 0: topic length 0, property length 0, payload "z".
    r.conn.send(Buffer.from([0x30, 0x04, 0x00, 0x00, 0x00, 0x7a]));
    expect([0x82, 0x90]).toContain(await r.serverDisconnect());
  });
});

describe('shared subscriptions: delivery guarantees (§4.8.2)', () => {
  /** A new group with a first, raw member `a` (Session Expiry Interval as given) and a publisher. */
  async function group(sessionExpiry: number) {
    const g = unique('g');
    const topic = `x/${unique('sh')}/job`;
    const filter = `$share/${g}/${topic}`;
    const who = { username: `${unique('u')}@org_aaaaaaaaaaaa`, password: Buffer.from(`grants:${unique('cred_')}:x/#`) };
    const clientId = unique('m');
    const fields = { clientId, clean: true, properties: { sessionExpiryInterval: sessionExpiry }, ...who };
    const a = await raw5(t, ['x/#'], fields);
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
    await a.next('suback');
    const pub = await client5(t, ['x/#']);
    return { a, fields, topic, filter, pub };
  }

  it('[MQTT-4.8.2-4] a message sent to a member that disconnects unacknowledged is completed to it when it reconnects, not given to another', async () => {
    const { a, fields, topic, filter, pub } = await group(60);
    await publish(pub, topic, 'for-a', { qos: 1 });
    const first = await a.next<IPublishPacket>('publish');
    a.conn.destroy();
    await a.conn.closed;
    const b = await client5(t, ['x/#']);
    const bGot = collect(b);
    await subscribe(b, filter, 1);
    const back = await raw5(t, ['x/#'], { ...fields, clean: false });
    const again = await back.next<IPublishPacket>('publish');
    expect([again.payload.toString(), again.messageId, again.dup]).toEqual(['for-a', first.messageId, true]);
    await sleep(100);
    expect(bGot).toEqual([]);
  });

  it('[MQTT-4.8.2-5] if the member\'s session ends before it reconnects, the message is not sent to another member', async () => {
    const { a, topic, filter, pub } = await group(0);
    const b = await client5(t, ['x/#']);
    const bGot = collect(b);
    // b joins after a: round-robin starts with a.
    await subscribe(b, filter, 1);
    await publish(pub, topic, 'for-a', { qos: 1 });
    await a.next('publish');
    a.conn.destroy();
    await a.conn.closed;
    await sleep(150);
    expect(bGot).toEqual([]);
  });

  it('[MQTT-4.8.2-6] a member answering PUBACK 0x80 or more: the message is discarded, not sent to another member', async () => {
    const { a, topic, filter, pub } = await group(0);
    const b = await client5(t, ['x/#']);
    const bGot = collect(b);
    // b joins after a: round-robin starts with a.
    await subscribe(b, filter, 1);
    await publish(pub, topic, 'refused', { qos: 1 });
    const p = await a.next<IPublishPacket>('publish');
    a.send({ cmd: 'puback', messageId: p.messageId!, reasonCode: 0x80 });
    await sleep(150);
    expect(publishes(a)).toHaveLength(1);
    expect(bGot).toEqual([]);
  });

  it('[MQTT-3.3.4-5] a session with a plain and a shared subscription gets two copies, each with its own Subscription Identifier', async () => {
    const topic = `x/${unique('two')}`;
    const s = await client5(t, ['x/#']);
    const got = collect(s);
    await subscribe(s, topic, 1, { properties: { subscriptionIdentifier: 1 } });
    await subscribe(s, `$share/${unique('g')}/${topic}`, 1, { properties: { subscriptionIdentifier: 2 } });
    const pub = await client5(t, ['x/#']);
    await publish(pub, topic, 'm', { qos: 1 });
    await waitFor(() => got.length === 2, 3000, 'two copies');
    expect(got.map((m) => m.properties?.subscriptionIdentifier).sort()).toEqual([1, 2]);
  });
});
