import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';

import { connectFieldsFit, decodeConnectFast, decodePublishFast, encodePublishQos0, type ProtocolVersion } from './codec';
import { connectStringsAreWellFormed } from './utf8';
import { connectFrame, connectPacket } from '../testing/helpers';

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
  const connect = connectPacket;
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

describe('CONNECT checks on connectFields (codec, utf8)', () => {
  const will = { topic: 'w/t', payload: Buffer.from('x'), qos: 0 as const, retain: false };
  const frameOf = (p: Partial<IConnectPacket>): Buffer => connectFrame({ clientId: 'c', ...p });
  /** The frame with one more byte after its fields (one-byte Remaining Length). */
  const trailing = (frame: Buffer) => {
    const out = Buffer.concat([frame, Buffer.from([0])]);
    out[1]++;
    return out;
  };
  /** The frame with `from` (a unique byte sequence) replaced by `to`, of the same length. */
  const patch = (frame: Buffer, from: string, to: number[]) => {
    const out = Buffer.from(frame);
    Buffer.from(to).copy(out, frame.indexOf(from));
    return out;
  };

  it('connectFieldsFit: exactly the announced fields, and no password without a user name', () => {
    const cases: Partial<IConnectPacket>[] = [
      {},
      { username: 'u' },
      { username: 'u', password: Buffer.from('p') },
      { will, username: 'u', password: Buffer.alloc(0) },
      { protocolId: 'MQIsdp', protocolVersion: 3 },
    ];
    for (const p of cases) {
      const frame = frameOf(p);
      expect(connectFieldsFit(frame)).toBe(true);
      expect(connectFieldsFit(trailing(frame))).toBe(false);
    }
    const frame = frameOf({ username: 'u', password: Buffer.from('p') });
    const flagsAt = 2 + 2 + 4 + 1;
    const passwordOnly = Buffer.concat([frame.subarray(0, frame.length - 6), frame.subarray(frame.length - 3)]);
    passwordOnly[1] -= 3;
    passwordOnly[flagsAt] &= ~0x80;
    expect(connectFieldsFit(passwordOnly)).toBe(false);
    const missing = Buffer.from(frame);
    missing[flagsAt] |= 0x04; // a will announced, not there
    expect(connectFieldsFit(missing)).toBe(false);
  });

  it.each([4, 5] as const)('connectStringsAreWellFormed: client id, will topic and user name; not the binary fields (version %s)', (version) => {
    const withWill = { ...will, payload: Buffer.from('pl') };
    const frame = frameOf({ protocolVersion: version, clientId: 'cid', will: withWill, username: 'usr', password: Buffer.from('pwd') });
    expect(connectStringsAreWellFormed(frame, version)).toBe(true);
    expect(connectStringsAreWellFormed(patch(frame, 'cid', [0x63, 0x00, 0x64]), version)).toBe(false);
    expect(connectStringsAreWellFormed(patch(frame, 'w/t', [0x77, 0xff, 0x74]), version)).toBe(false);
    expect(connectStringsAreWellFormed(patch(frame, 'usr', [0xc3, 0x28, 0x72]), version)).toBe(false);
    expect(connectStringsAreWellFormed(patch(frame, 'pl', [0xff, 0x00]), version)).toBe(true);
    expect(connectStringsAreWellFormed(patch(frame, 'pwd', [0xff, 0x00, 0xfe]), version)).toBe(true);
    expect(connectStringsAreWellFormed(Buffer.from(frame.subarray(0, frame.indexOf('usr') + 2)), version)).toBe(false); // user name cut short
  });
});
