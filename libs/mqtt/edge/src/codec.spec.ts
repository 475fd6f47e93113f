import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';

import { decodeConnectFast, decodePublishFast, encodePublishQos0, type ProtocolVersion } from './codec';

/** mqtt-packet's own decoding of one frame (the reference the fast paths must match). */
function reference(frame: Buffer, version?: ProtocolVersion): Packet | null {
  let packet: Packet | null = null;
  const parser = mqttPacket.parser(version === undefined ? {} : { protocolVersion: version });
  parser.on('packet', (p: Packet) => (packet = p));
  parser.on('error', () => (packet = null));
  parser.parse(frame);
  return packet;
}

const publish = (p: Partial<IPublishPacket>): IPublishPacket => ({
  cmd: 'publish',
  topic: 'a/b',
  payload: Buffer.from('hello'),
  qos: 0,
  retain: false,
  dup: false,
  ...p,
});

describe('PUBLISH fast paths (codec)', () => {
  const versions: ProtocolVersion[] = [4, 5];
  const cases: IPublishPacket[] = [
    publish({}),
    publish({ qos: 1, messageId: 7 }),
    publish({ qos: 2, messageId: 65535, dup: true, retain: true }),
    publish({ topic: 'ünïcödé/€', payload: Buffer.alloc(0) }),
    publish({ payload: Buffer.alloc(200, 1) }), // two-byte Remaining Length
    publish({ payload: Buffer.alloc(20_000, 2) }), // three-byte Remaining Length
  ];

  it.each(versions)('decodes what mqtt-packet decodes, field for field (version %s)', (version) => {
    for (const p of cases) {
      const frame = mqttPacket.generate(p, { protocolVersion: version });
      const fast = decodePublishFast(frame, version);
      const ref = reference(frame, version) as IPublishPacket;
      expect(fast).not.toBeNull();
      expect({ ...fast, length: undefined }).toEqual({ ...ref, length: undefined, properties: undefined, messageId: ref.messageId });
    }
  });

  it('leaves 5.0 properties, QoS 3 and truncated frames to mqtt-packet', () => {
    const withProps = mqttPacket.generate(publish({ properties: { contentType: 'x' } }), { protocolVersion: 5 });
    expect(decodePublishFast(withProps, 5)).toBeNull();
    expect(decodePublishFast(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]), 4)).toBeNull();
    // Topic length beyond the frame; QoS 1 without room for the packet identifier.
    expect(decodePublishFast(Buffer.from([0x30, 0x03, 0x00, 0x05, 0x61]), 4)).toBeNull();
    expect(decodePublishFast(Buffer.from([0x32, 0x04, 0x00, 0x01, 0x61, 0x00]), 4)).toBeNull();
    expect(decodePublishFast(Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]), 5)).toBeNull();
  });

  it.each(versions)('encodes QoS 0 byte for byte as mqtt-packet (version %s)', (version) => {
    for (const p of cases.filter((c) => c.qos === 0 && !c.retain)) {
      const expected = mqttPacket.generate({ ...p, dup: false }, { protocolVersion: version });
      expect(encodePublishQos0(p.topic, p.payload as Buffer, version)).toEqual(expected);
    }
  });
});

describe('CONNECT fast path (codec)', () => {
  const connect = (p: Partial<IConnectPacket>): IConnectPacket => ({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: 'client-1',
    ...p,
  });
  /** The fields the edge reads, as mqtt-packet gives them. */
  const fields = (p: Packet | null) => {
    const c = p as IConnectPacket;
    return { cmd: c.cmd, protocolId: c.protocolId, protocolVersion: c.protocolVersion, clean: c.clean, keepalive: c.keepalive, clientId: c.clientId, username: c.username, password: c.password, will: c.will, properties: c.properties };
  };

  it('decodes 3.1 and 3.1.1 CONNECTs without a will as mqtt-packet does', () => {
    const cases = [
      connect({}),
      connect({ username: 'user_1@org_k7xm4pqr2n5t', password: Buffer.from('tkn_abc.def.ghi') }),
      connect({ username: 'only-user' }),
      connect({ clean: false, keepalive: 0 }),
      connect({ clientId: '' }),
      connect({ clientId: 'ünïcödé-€', username: 'ü', password: Buffer.alloc(0) }),
      connect({ protocolId: 'MQIsdp', protocolVersion: 3, username: 'u', password: Buffer.from('p') }),
      connect({ keepalive: 65535, clientId: 'x'.repeat(300) }),
    ];
    for (const p of cases) {
      const frame = mqttPacket.generate(p);
      const fast = decodeConnectFast(frame);
      expect(fast).not.toBeNull();
      expect(fields(fast)).toEqual(fields(reference(frame)));
    }
  });

  it('leaves 5.0, wills, reserved bits and short frames to mqtt-packet', () => {
    expect(decodeConnectFast(mqttPacket.generate(connect({ protocolVersion: 5 })))).toBeNull();
    expect(decodeConnectFast(mqttPacket.generate(connect({ will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false } })))).toBeNull();
    const frame = mqttPacket.generate(connect({ username: 'u', password: Buffer.from('p') }));
    const flagsAt = 2 + 2 + 4 + 1;
    const reserved = Buffer.from(frame);
    reserved[flagsAt] |= 0x01;
    expect(decodeConnectFast(reserved)).toBeNull();
    const willQosOnly = Buffer.from(frame);
    willQosOnly[flagsAt] |= 0x08;
    expect(decodeConnectFast(willQosOnly)).toBeNull();
    for (let cut = 2; cut < frame.length; cut++) {
      // A frame cut short (Remaining Length adjusted) never decodes to something mqtt-packet would refuse.
      const short = Buffer.from(frame.subarray(0, cut));
      short[1] = cut - 2;
      const fast = decodeConnectFast(short);
      if (fast !== null) expect(fields(fast)).toEqual(fields(reference(short)));
    }
  });
});
