import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';

import { decodePacket, decodePublishFast, encodePublishQos0, type ProtocolVersion } from './codec';

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

describe('5.0 properties mqtt-packet reads as null (codec)', () => {
  // mqtt-packet gives null for a property string that runs past the packet: a Malformed Packet, not a throw.
  it.each([
    ['a User Property name', [0x30, 6, 0, 1, 0x74, 3, 0x26, 0, 9]],
    ['a Content Type', [0x30, 6, 0, 1, 0x74, 3, 0x03, 0, 9]],
  ])('a PUBLISH with %s running past the packet is malformed', (_, bytes) => {
    expect(decodePacket(Buffer.from(bytes), 5)).toBeNull();
  });
});
