/**
 * MQTT 3.1.1 conformance: CONNECT and CONNACK (§3.1, §3.2), and the WebSocket transport (§6).
 * Raw bytes throughout: most of these CONNECTs are ones mqtt.js would never send.
 */
import WebSocket from 'ws';
import type { IConnackPacket } from 'mqtt-packet';
import { collect, connect, encodePacket, ORG_A, sleep, waitFor } from '../testing/helpers';
import { connect311, DISCONNECT, frame, PINGREQ, publish311, Raw311, uid, useEdge } from '../testing/raw311';

const edge = useEdge();

/** Sends one CONNECT and expects the edge to close the connection without any CONNACK [MQTT-3.1.4-1]. */
async function closedWithoutConnack(bytes: Buffer): Promise<void> {
  const c = await Raw311.open(edge());
  c.send(bytes);
  expect(await c.closesWithin(1500)).toBe(true);
  expect(c.bytes().length).toBe(0);
}

/** Sends one CONNECT and returns the CONNACK, after checking the connection is then closed when refused. */
async function connackOf(bytes: Buffer): Promise<IConnackPacket> {
  const c = await Raw311.open(edge());
  c.send(bytes);
  const [connack] = (await c.waitFor((p) => p.cmd === 'connack', 'CONNACK')) as IConnackPacket[];
  if (connack.returnCode !== 0) expect(await c.closesWithin(1500)).toBe(true);
  else c.destroy();
  return connack;
}

describe('MQTT 3.1.1 CONNECT validation', () => {
  it('closes without CONNACK when the protocol name is not MQTT [MQTT-3.1.2-1]', async () => {
    const bytes = connect311();
    bytes.write('MQTX', 4, 'latin1'); // after the fixed header (2 bytes) and the name length (2 bytes)
    await closedWithoutConnack(bytes);
  });

  it('closes without CONNACK when the reserved Connect Flag is 1 [MQTT-3.1.2-3]', async () => {
    await closedWithoutConnack(connect311({ flipFlags: 0x01 }));
  });

  it('closes without CONNACK on reserved fixed-header flags of CONNECT [MQTT-2.2.2-2]', async () => {
    await closedWithoutConnack(connect311({ header: 0x12 }));
  });

  it('closes without CONNACK when Will Flag is 1 but the will fields are missing [MQTT-3.1.2-9]', async () => {
    await closedWithoutConnack(connect311({ flipFlags: 0x04, username: null, password: null }));
  });

  it('closes without CONNACK when Will Flag is 0 but Will QoS is not 0 [MQTT-3.1.2-11] [MQTT-3.1.2-13]', async () => {
    await closedWithoutConnack(connect311({ flipFlags: 0x08 }));
  });

  it('closes without CONNACK when Will Flag is 0 but Will Retain is 1 [MQTT-3.1.2-11] [MQTT-3.1.2-15]', async () => {
    await closedWithoutConnack(connect311({ flipFlags: 0x20 }));
  });

  it('closes without CONNACK on Will QoS 3 [MQTT-3.1.2-14]', async () => {
    await closedWithoutConnack(connect311({ will: { topic: 'users/conf/w', payload: 'w', qos: 3 } }));
  });

  it('closes without CONNACK on ill-formed UTF-8 in the will topic [MQTT-3.1.3-10] [MQTT-1.5.3-1]', async () => {
    const topic = Buffer.concat([Buffer.from('users/conf/'), Buffer.from([0xc3, 0x28])]); // a lead byte without its continuation
    await closedWithoutConnack(connect311({ will: { topic, payload: 'w' } }));
  });

  it('accepts a well-formed U+FFFD in the will topic, also after 5.0 properties [MQTT-3.1.3-10]', async () => {
    const topic = 'users/conf/\ufffd';
    expect((await connackOf(connect311({ will: { topic, payload: 'w' } }))).returnCode).toBe(0);
    const c = await Raw311.open(edge());
    c.send(
      encodePacket(
        {
          cmd: 'connect',
          protocolVersion: 5,
          clientId: uid('v5'),
          clean: true,
          keepalive: 60,
          username: `conf@${ORG_A}`,
          password: Buffer.from('good'),
          properties: { sessionExpiryInterval: 0, receiveMaximum: 10, userProperties: { a: 'b' } },
          will: { topic, payload: Buffer.from('w'), qos: 0, retain: false, properties: { contentType: 'text/plain', willDelayInterval: 0 } },
        },
        5,
      ),
    );
    await waitFor(() => c.bytes().length >= 4, 3000, 'CONNACK');
    expect([...c.bytes().subarray(0, 4)]).toEqual([0x20, c.bytes()[1], 0x00, 0x00]); // 5.0 CONNACK, reason 0x00
    c.destroy();
  });

  it('closes without CONNACK when User Name Flag is 1 but no user name follows [MQTT-3.1.2-19]', async () => {
    await closedWithoutConnack(connect311({ username: null, password: null, flipFlags: 0x80 }));
  });

  it('closes without CONNACK when Password Flag is 1 but no password follows [MQTT-3.1.2-21]', async () => {
    await closedWithoutConnack(connect311({ password: null, flipFlags: 0x40 }));
  });

  it('closes without CONNACK when a user name is present with User Name Flag 0 [MQTT-3.1.2-18]', async () => {
    await closedWithoutConnack(connect311({ password: null, flipFlags: 0x80 }));
  });

  it('closes without CONNACK when a password is present with Password Flag 0 [MQTT-3.1.2-20]', async () => {
    await closedWithoutConnack(connect311({ flipFlags: 0x40 }));
  });

  it('closes without CONNACK on Password Flag 1 with User Name Flag 0 [MQTT-3.1.2-22]', async () => {
    await closedWithoutConnack(connect311({ username: null }));
  });

  it('closes without CONNACK when the payload has no client identifier [MQTT-3.1.3-3] [MQTT-3.1.3-1]', async () => {
    // Variable header only: protocol name, level 4, clean session, keepalive 60.
    await closedWithoutConnack(frame(0x10, Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60])));
  });
});

describe('MQTT 3.1.1 client identifiers', () => {
  it('accepts a 23-character alphanumeric client id [MQTT-3.1.3-5]', async () => {
    const connack = await connackOf(connect311({ clientId: 'aZ09bY18cX27dW36eV45fU5' }));
    expect(connack.returnCode).toBe(0);
  });

  it('gives each zero-length client id its own unique identity [MQTT-3.1.3-6]', async () => {
    const a = await Raw311.connected(edge(), { clientId: '' });
    const b = await Raw311.connected(edge(), { clientId: '' });
    await sleep(100);
    // A shared identity would have taken the first over [MQTT-3.1.4-2].
    expect(a.isClosed()).toBe(false);
    expect(b.isClosed()).toBe(false);
    a.send(PINGREQ);
    await a.waitFor((p) => p.cmd === 'pingresp', 'PINGRESP');
    a.destroy();
    b.destroy();
  });

  it('refuses a client id it rejects with CONNACK 2 and closes [MQTT-3.1.3-9]', async () => {
    const connack = await connackOf(connect311({ clientId: 'x'.repeat(300) })); // beyond maxClientIdLength
    expect(connack).toMatchObject({ returnCode: 2, sessionPresent: false });
  });
});

describe('MQTT 3.1.1 CONNACK', () => {
  it('acknowledges a valid CONNECT with return code 0 [MQTT-3.1.4-4]', async () => {
    expect((await connackOf(connect311())).returnCode).toBe(0);
  });

  it('sends CONNACK before anything else, even to packets pipelined behind CONNECT [MQTT-3.2.0-1]', async () => {
    const c = await Raw311.open(edge());
    const topic = `users/conf/${uid('p')}`;
    // An asynchronous authentication, with SUBSCRIBE and PINGREQ already on the wire.
    c.send(
      Buffer.concat([
        connect311({ password: 'slow:150' }),
        frame(0x82, Buffer.concat([Buffer.from([0, 1, 0, topic.length]), Buffer.from(topic), Buffer.from([1])])),
        Buffer.from([0xc0, 0x00]),
      ]),
    );
    await c.waitFor((p) => p.cmd === 'pingresp', 'PINGRESP');
    expect(c.packets().map((p) => p.cmd)).toEqual(['connack', 'suback', 'pingresp']);
    c.destroy();
  });

  it('sets Session Present from the stored session [MQTT-3.2.2-1] [MQTT-3.2.2-2] [MQTT-3.2.2-3]', async () => {
    const clientId = uid('sp');
    const present = async (clean: boolean): Promise<boolean> => {
      const c = await Raw311.connected(edge(), { clientId, clean });
      const connack = c.packets()[0] as IConnackPacket;
      c.send(DISCONNECT);
      await c.closesWithin(1000);
      return connack.sessionPresent;
    };
    expect(await present(false)).toBe(false); // nothing stored yet [MQTT-3.2.2-3]
    expect(await present(false)).toBe(true); // stored by the previous connection [MQTT-3.2.2-2]
    expect(await present(true)).toBe(false); // clean session [MQTT-3.2.2-1]
    expect(await present(false)).toBe(false); // the clean session discarded it [MQTT-3.2.2-3]
  });

  it('refuses with Session Present 0 and closes, even when a session is stored [MQTT-3.2.2-4] [MQTT-3.2.2-5]', async () => {
    const clientId = uid('rf');
    const c = await Raw311.connected(edge(), { clientId, clean: false });
    c.send(DISCONNECT);
    await c.closesWithin(1000);
    for (const password of ['bad', 'forbidden', 'unavailable']) {
      const connack = await connackOf(connect311({ clientId, clean: false, password }));
      expect(connack.sessionPresent).toBe(false);
      expect([3, 4, 5]).toContain(connack.returnCode);
    }
  });

  it('closes without CONNACK when no return code applies [MQTT-3.2.2-6]', async () => {
    // An invalid will topic: none of the 3.1.1 return codes describes it.
    await closedWithoutConnack(connect311({ will: { topic: 'users/conf/+', payload: 'w' } }));
  });

  it('does not process anything sent after a refused CONNECT [MQTT-3.1.4-5]', async () => {
    const user = uid('u');
    const topic = `users/${user}/after-refusal`;
    const c = await Raw311.open(edge());
    c.send(Buffer.concat([connect311({ user, password: 'bad' }), publish311(topic, 'nope', { qos: 1, id: 1, retain: true })]));
    expect(await c.closesWithin(1500)).toBe(true);
    expect(c.packets().map((p) => p.cmd)).toEqual(['connack']);
    // Nothing was published or retained.
    const sub = await connect(edge().url('tcp'), 4, { username: `${user}@${ORG_A}`, password: 'good' });
    const got = collect(sub);
    await sub.subscribeAsync(topic, { qos: 1 });
    await sleep(150);
    expect(got).toEqual([]);
  });
});

describe('MQTT 3.1.1 over WebSocket', () => {
  it('selects the "mqtt" subprotocol [MQTT-6.0.0-4]', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${edge().ports.ws}/mqtt`, ['mqtt']);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('mqtt');
    ws.terminate();
  });

  it('closes the connection on a text frame [MQTT-6.0.0-1]', async () => {
    const c = await Raw311.connected(edge(), {}, 'ws');
    const ws = new WebSocket(`ws://127.0.0.1:${edge().ports.ws}/mqtt`, ['mqtt']);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.send(connect311().toString('latin1'), { binary: false });
    await closed;
    c.destroy();
  });

  it('reads packets split across frames and several packets in one frame [MQTT-6.0.0-2]', async () => {
    const c = await Raw311.open(edge(), 'ws');
    const bytes = connect311();
    c.send(bytes.subarray(0, 5));
    await sleep(30);
    // The rest of CONNECT, then two PINGREQs, in one frame.
    c.send(Buffer.concat([bytes.subarray(5), Buffer.from([0xc0, 0x00, 0xc0, 0x00])]));
    await waitFor(() => c.of('pingresp').length === 2, 3000, 'two PINGRESPs');
    expect(c.packets()[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    c.destroy();
  });
});
