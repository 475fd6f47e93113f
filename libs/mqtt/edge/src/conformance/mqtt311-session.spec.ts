/**
 * MQTT 3.1.1 conformance: sessions and redelivery (§3.1.2.4, §4.1, §4.4), retained messages
 * (§3.3.1.3), wills (§3.1.2.5–3.1.2.7), PINGREQ, keepalive and DISCONNECT (§3.12, §3.14).
 */
import type { IConnackPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { sleep } from '../testing/helpers';
import { connect311, DISCONNECT, PINGREQ, publish311, Raw311, uid, useEdge, type Connect311 } from '../testing/raw311';

const edge = useEdge();

/** Connects, runs `body`, then leaves with DISCONNECT (the session stays when clean is false). */
async function visit(o: Connect311, body: (c: Raw311) => Promise<void> = async () => undefined): Promise<Raw311> {
  const c = await Raw311.connected(edge(), o);
  await body(c);
  c.send(DISCONNECT);
  await c.closesWithin(1000);
  return c;
}

async function publishFrom(topic: string, payload: string, o: { qos?: number; retain?: boolean } = {}): Promise<void> {
  const pub = await Raw311.connected(edge());
  const qos = o.qos ?? 1;
  pub.send(publish311(topic, payload, { qos, id: 1, retain: o.retain }));
  if (qos > 0) await pub.waitFor((p) => p.cmd === (qos === 1 ? 'puback' : 'pubrec'), 'acknowledgement');
  pub.send(DISCONNECT);
  await pub.closesWithin(1000);
}

/** A subscriber on `filter` that collects what it gets (QoS 1, acknowledged). */
async function listener(filter: string): Promise<Raw311> {
  const c = await Raw311.connected(edge());
  await c.subscribe(filter, 1);
  return c;
}

const payloads = (c: Raw311): string[] => c.publishes().map((p) => p.payload.toString());

describe('MQTT 3.1.1 sessions', () => {
  it('resumes a clean-session-0 session: subscriptions kept, QoS 1/2 messages stored while away [MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-4.1.0-1] [MQTT-4.5.0-1]', async () => {
    const clientId = uid('s');
    const topic = `users/conf/${clientId}`;
    await visit({ clientId, clean: false }, async (c) => void (await c.subscribe(topic, 2)));
    await publishFrom(topic, 'q1', { qos: 1 });
    await publishFrom(topic, 'q2', { qos: 2 });
    const back = await Raw311.connected(edge(), { clientId, clean: false });
    expect((back.packets()[0] as IConnackPacket).sessionPresent).toBe(true);
    await back.waitFor((p) => p.cmd === 'publish', 'stored messages', 2);
    expect(payloads(back)).toEqual(['q1', 'q2']);
    // Still subscribed without a new SUBSCRIBE.
    await publishFrom(topic, 'live', { qos: 0 });
    await back.waitFor((p) => p.cmd === 'publish', 'live message', 3);
    back.destroy();
  });

  it('discards the session on clean session 1 and never reuses its state [MQTT-3.1.2-6] [MQTT-3.1.4-3]', async () => {
    const clientId = uid('s');
    const topic = `users/conf/${clientId}`;
    await visit({ clientId, clean: false }, async (c) => void (await c.subscribe(topic, 1)));
    await publishFrom(topic, 'stored');
    const fresh = await visit({ clientId, clean: true }, () => sleep(100));
    expect(fresh.publishes()).toEqual([]);
    await publishFrom(topic, 'to nobody');
    const later = await Raw311.connected(edge(), { clientId, clean: false });
    await sleep(100);
    expect((later.packets()[0] as IConnackPacket).sessionPresent).toBe(false);
    expect(later.publishes()).toEqual([]);
    later.destroy();
  });

  it('identifies session state by client identifier [MQTT-3.1.3-2]', async () => {
    const clientId = uid('s');
    const topic = `users/conf/${clientId}`;
    await visit({ clientId, clean: false }, async (c) => void (await c.subscribe(topic, 1)));
    await publishFrom(topic, 'mine');
    const other = await Raw311.connected(edge(), { clientId: uid('o'), clean: false });
    const same = await Raw311.connected(edge(), { clientId, clean: false });
    await same.waitFor((p) => p.cmd === 'publish', 'stored message');
    expect((other.packets()[0] as IConnackPacket).sessionPresent).toBe(false);
    expect(other.publishes()).toEqual([]);
    other.destroy();
    same.destroy();
  });

  it('disconnects the existing client when its client identifier connects again [MQTT-3.1.4-2]', async () => {
    const clientId = uid('s');
    const first = await Raw311.connected(edge(), { clientId });
    const second = await Raw311.connected(edge(), { clientId });
    expect(await first.closesWithin(1000)).toBe(true);
    second.send(PINGREQ);
    await second.waitFor((p) => p.cmd === 'pingresp', 'PINGRESP');
    second.destroy();
  });

  it('re-sends unacknowledged PUBLISH (DUP, same identifiers, same order) and PUBREL on resume [MQTT-4.4.0-1] [MQTT-4.6.0-1] [MQTT-3.3.1-1] [MQTT-4.3.3-1]', async () => {
    const clientId = uid('s');
    const topic = `users/conf/${clientId}`;
    let first: IPublishPacket[] = [];
    const gone = await Raw311.connected(edge(), { clientId, clean: false });
    await gone.subscribe(topic, 2);
    const pub = await Raw311.connected(edge());
    pub.send(Buffer.concat([1, 2, 3].map((i) => publish311(topic, `m${i}`, { qos: 1, id: i }))));
    pub.send(publish311(topic, 'released', { qos: 2, id: 4 }));
    first = (await gone.waitFor((p) => p.cmd === 'publish', 'four messages', 4)) as IPublishPacket[];
    const released = first[3];
    gone.sendPacket({ cmd: 'pubrec', messageId: released.messageId } as Packet);
    await gone.waitFor((p) => p.cmd === 'pubrel', 'PUBREL');
    gone.destroy(); // nothing acknowledged, PUBCOMP not sent
    await gone.closesWithin(1000);
    const back = await Raw311.connected(edge(), { clientId, clean: false });
    await back.waitFor((p) => p.cmd === 'pubrel', 'PUBREL again');
    await back.waitFor((p) => p.cmd === 'publish', 'three re-sent', 3);
    await sleep(100);
    const again = back.publishes();
    expect(again.map((p) => [p.payload.toString(), p.messageId, p.dup])).toEqual(first.slice(0, 3).map((p) => [p.payload.toString(), p.messageId, true]));
    // The QoS 2 message whose PUBREL was sent is not re-sent as a PUBLISH, only its PUBREL.
    expect(back.of('pubrel').map((p) => (p as { messageId: number }).messageId)).toEqual([released.messageId]);
    back.destroy();
  });
});

describe('MQTT 3.1.1 inbound QoS 2 across connections', () => {
  it('keeps an unreleased QoS 2 identifier in the session: a re-sent PUBLISH is not delivered twice [MQTT-4.3.3-2] [MQTT-4.4.0-1]', async () => {
    const clientId = uid('s');
    const topic = `users/conf/${clientId}`;
    const sub = await listener(topic);
    const first = await Raw311.connected(edge(), { clientId, clean: false });
    first.send(publish311(topic, 'exactly once', { qos: 2, id: 5 }));
    await first.waitFor((p) => p.cmd === 'pubrec', 'PUBREC');
    first.destroy(); // before PUBREL
    await first.closesWithin(1000);
    const again = await Raw311.connected(edge(), { clientId, clean: false });
    again.send(publish311(topic, 'exactly once', { qos: 2, id: 5, dup: true }));
    await again.waitFor((p) => p.cmd === 'pubrec', 'PUBREC again');
    again.sendPacket({ cmd: 'pubrel', messageId: 5 } as Packet);
    const [pubcomp] = await again.waitFor((p) => p.cmd === 'pubcomp', 'PUBCOMP');
    expect((pubcomp as { messageId: number }).messageId).toBe(5);
    await sleep(100);
    expect(payloads(sub)).toEqual(['exactly once']);
    again.destroy();
  });
});

describe('MQTT 3.1.1 retained messages', () => {
  it('keeps retained messages after the publishing session ends [MQTT-3.1.2-7]', async () => {
    const topic = `users/conf/${uid('r')}`;
    await publishFrom(topic, 'kept', { retain: true });
    const sub = await listener(topic);
    await sub.waitFor((p) => p.cmd === 'publish', 'retained');
    expect(sub.publishes()[0]).toMatchObject({ retain: true, qos: 1 });
    await publishFrom(topic, '', { retain: true });
  });

  it('replaces the retained message with a QoS 0 one [MQTT-3.3.1-7]', async () => {
    const topic = `users/conf/${uid('r')}`;
    await publishFrom(topic, 'old', { qos: 1, retain: true });
    await publishFrom(topic, 'new', { qos: 0, retain: true });
    await sleep(50);
    const sub = await listener(topic);
    await sub.waitFor((p) => p.cmd === 'publish', 'retained');
    await sleep(50);
    expect(sub.publishes().map((p) => [p.payload.toString(), p.qos])).toEqual([['new', 0]]);
    await publishFrom(topic, '', { retain: true });
  });

  it('does not store a zero-byte retained message, and it removes the one retained [MQTT-3.3.1-10] [MQTT-3.3.1-11]', async () => {
    const topic = `users/conf/${uid('r')}`;
    const before = edge().edge.stats().retainedMessages;
    await publishFrom(topic, 'x', { retain: true });
    expect(edge().edge.stats().retainedMessages).toBe(before + 1);
    await publishFrom(topic, '', { retain: true });
    expect(edge().edge.stats().retainedMessages).toBe(before);
    const sub = await listener(topic);
    await sleep(100);
    expect(sub.publishes()).toEqual([]);
  });

  it('neither stores nor replaces anything for RETAIN 0 [MQTT-3.3.1-12]', async () => {
    const topic = `users/conf/${uid('r')}`;
    await publishFrom(topic, 'retained', { retain: true });
    await publishFrom(topic, 'plain');
    const sub = await listener(topic);
    await sub.waitFor((p) => p.cmd === 'publish', 'retained');
    await sleep(50);
    expect(payloads(sub)).toEqual(['retained']);
    await publishFrom(topic, '', { retain: true });
  });
});

describe('MQTT 3.1.1 wills', () => {
  const will = (topic: string, retain = false): Connect311['will'] => ({ topic, payload: 'gone', qos: 1, retain });

  it('publishes the will when the connection closes without DISCONNECT, then removes it [MQTT-3.1.2-8] [MQTT-3.1.2-10]', async () => {
    const clientId = uid('w');
    const topic = `users/conf/${clientId}`;
    const sub = await listener(topic);
    const c = await Raw311.connected(edge(), { clientId, clean: false, will: will(topic) });
    c.destroy();
    await sub.waitFor((p) => p.cmd === 'publish', 'will');
    // The session ends later (clean session): the will is not published again.
    await visit({ clientId, clean: true });
    await sleep(100);
    expect(payloads(sub)).toEqual(['gone']);
  });

  it('publishes the will on a protocol violation, and on a malformed DISCONNECT [MQTT-3.1.2-8] [MQTT-3.14.1-1] [MQTT-4.8.0-1]', async () => {
    const topic = `users/conf/${uid('w')}`;
    const sub = await listener(topic);
    const bad = await Raw311.connected(edge(), { will: will(topic) });
    bad.send(connect311()); // a second CONNECT [MQTT-3.1.0-2]
    expect(await bad.closesWithin(1000)).toBe(true);
    const flagged = await Raw311.connected(edge(), { will: will(topic) });
    flagged.send(Buffer.from([0xe1, 0x00]));
    expect(await flagged.closesWithin(1000)).toBe(true);
    const long = await Raw311.connected(edge(), { will: will(topic) });
    long.send(Buffer.from([0xe0, 0x01, 0x00])); // a 3.1.1 DISCONNECT has no variable header
    expect(await long.closesWithin(1000)).toBe(true);
    await sub.waitFor((p) => p.cmd === 'publish', 'three wills', 3);
  });

  it('discards the will on DISCONNECT, and publishes none without Will Flag [MQTT-3.14.4-3] [MQTT-3.1.2-10] [MQTT-3.1.2-12]', async () => {
    const topic = `users/conf/${uid('w')}`;
    const sub = await listener(topic);
    await visit({ will: will(topic) });
    const none = await Raw311.connected(edge());
    none.destroy();
    await sleep(150);
    expect(sub.publishes()).toEqual([]);
  });

  it('publishes the will retained only with Will Retain [MQTT-3.1.2-16] [MQTT-3.1.2-17]', async () => {
    const plain = `users/conf/${uid('w')}`;
    const kept = `users/conf/${uid('w')}`;
    const a = await Raw311.connected(edge(), { will: will(plain, false) });
    const b = await Raw311.connected(edge(), { will: will(kept, true) });
    a.destroy();
    b.destroy();
    await sleep(150);
    const late = await Raw311.connected(edge());
    await late.subscribe(plain, 1, 1);
    await late.subscribe(kept, 1, 2);
    await late.waitFor((p) => p.cmd === 'publish', 'retained will');
    await sleep(50);
    expect(late.publishes().map((p) => [p.topic, p.retain])).toEqual([[kept, true]]);
    await publishFrom(kept, '', { retain: true });
  });
});

describe('MQTT 3.1.1 PINGREQ and keepalive', () => {
  it('answers PINGREQ with PINGRESP [MQTT-3.12.4-1]', async () => {
    const c = await Raw311.connected(edge());
    c.send(Buffer.concat([PINGREQ, PINGREQ]));
    await c.waitFor((p) => p.cmd === 'pingresp', 'two PINGRESPs', 2);
    c.destroy();
  });

  it('closes a client silent for 1.5 × keepalive as if the network failed (the will goes out) [MQTT-3.1.2-24]', async () => {
    const topic = `users/conf/${uid('k')}`;
    const sub = await listener(topic);
    const c = await Raw311.connected(edge(), { keepalive: 1, will: { topic, payload: 'silent', qos: 1 } });
    const started = Date.now();
    expect(await c.closesWithin(3000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    await sub.waitFor((p) => p.cmd === 'publish', 'will');
  });
});
