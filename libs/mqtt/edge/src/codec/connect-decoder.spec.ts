import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, Packet } from 'mqtt-packet';

import { ConnectProblem, decodeConnect } from './connect-decoder';
import { connectFrame, connectPacket, rawConnect5, utf8Field as str } from '../testing/helpers';

/** mqtt-packet's own decoding of one frame (the reference the decoder must match). */
function reference(frame: Buffer): Packet | null {
  let packet: Packet | null = null;
  const parser = mqttPacket.parser();
  parser.on('packet', (p: Packet) => (packet = p));
  parser.on('error', () => (packet = null));
  parser.parse(frame);
  return packet;
}

/** The fields the edge reads, as mqtt-packet gives them. */
const fields = (p: Packet | ConnectProblem | null) => {
  const c = p as IConnectPacket;
  return { cmd: c.cmd, protocolId: c.protocolId, protocolVersion: c.protocolVersion, clean: c.clean, keepalive: c.keepalive, clientId: c.clientId, username: c.username, password: c.password, will: c.will, properties: c.properties };
};

/** The 5.0 reason code of a refused CONNECT, or 0 when it decodes. */
const refusal = (frame: Buffer): number => {
  const decoded = decodeConnect(frame);
  return decoded instanceof ConnectProblem ? decoded.reasonCode : 0;
};

const will = { topic: 'w/t', payload: Buffer.from('x'), qos: 0 as const, retain: false };
const frameOf = (p: Partial<IConnectPacket>): Buffer => connectFrame({ clientId: 'c', ...p });
const flagsAt = 2 + 2 + 4 + 1;

describe('CONNECT decoder (codec)', () => {
  it('decodes 3.1 and 3.1.1 CONNECTs without a will as mqtt-packet does', () => {
    const cases = [
      connectPacket({}),
      connectPacket({ username: 'user_1@org_k7xm4pqr2n5t', password: Buffer.from('tkn_abc.def.ghi') }),
      connectPacket({ username: 'only-user' }),
      connectPacket({ clean: false, keepalive: 0 }),
      connectPacket({ clientId: '' }),
      connectPacket({ clientId: 'ünïcödé-€', username: 'ü', password: Buffer.alloc(0) }),
      connectPacket({ protocolId: 'MQIsdp', protocolVersion: 3, username: 'u', password: Buffer.from('p') }),
      connectPacket({ keepalive: 65535, clientId: 'x'.repeat(300) }),
    ];
    for (const p of cases) {
      const frame = mqttPacket.generate(p);
      const decoded = decodeConnect(frame);
      expect(decoded).not.toBeInstanceOf(ConnectProblem);
      expect(fields(decoded)).toEqual(fields(reference(frame)));
    }
  });

  it('decodes 5.0 CONNECTs and wills, with their properties, as mqtt-packet does', () => {
    const cases = [
      connectPacket({ protocolVersion: 5 }),
      connectPacket({ will }),
      connectPacket({ will: { ...will, qos: 2, retain: true }, username: 'u', password: Buffer.from('p') }),
      connectPacket({
        protocolVersion: 5,
        properties: {
          sessionExpiryInterval: 3600,
          receiveMaximum: 10,
          maximumPacketSize: 65536,
          topicAliasMaximum: 5,
          requestResponseInformation: true,
          requestProblemInformation: false,
          userProperties: { a: '1', b: ['2', '3'], ü: '€' },
          authenticationMethod: 'signet-token',
          authenticationData: Buffer.from('tkn_x'),
        },
        will: {
          ...will,
          qos: 1,
          properties: {
            willDelayInterval: 5,
            payloadFormatIndicator: true,
            messageExpiryInterval: 60,
            contentType: 'text/plain',
            responseTopic: 'r/t',
            correlationData: Buffer.from([0, 1]),
            userProperties: { k: ['v', 'w'] },
          },
        },
        username: 'u',
        password: Buffer.from('p'),
      }),
    ];
    for (const p of cases) {
      const frame = mqttPacket.generate(p, { protocolVersion: p.protocolVersion });
      const decoded = decodeConnect(frame);
      expect(decoded).not.toBeInstanceOf(ConnectProblem);
      expect(fields(decoded)).toEqual(fields(reference(frame)));
    }
  });

  it('refuses reserved bits, Will QoS without a will and short frames', () => {
    const frame = mqttPacket.generate(connectPacket({ username: 'u', password: Buffer.from('p') }));
    const reserved = Buffer.from(frame);
    reserved[flagsAt] |= 0x01;
    expect(refusal(reserved)).toBe(0x81);
    const willQosOnly = Buffer.from(frame);
    willQosOnly[flagsAt] |= 0x08;
    expect(refusal(willQosOnly)).toBe(0x81);
    const headerFlags = Buffer.from(frame);
    headerFlags[0] |= 0x02;
    expect(refusal(headerFlags)).toBe(0x81);
    for (let cut = 2; cut < frame.length; cut++) {
      // A frame cut short (Remaining Length adjusted) never decodes to something mqtt-packet would refuse.
      const short = Buffer.from(frame.subarray(0, cut));
      short[1] = cut - 2;
      const decoded = decodeConnect(short);
      if (!(decoded instanceof ConnectProblem)) expect(fields(decoded)).toEqual(fields(reference(short)));
    }
  });

  it('reads the Protocol Name and Level itself: not MQTT is level -1, an unsupported level is 0x84 with its level', () => {
    const frame = frameOf({});
    const notMqtt = Buffer.from(frame);
    notMqtt.write('MQTX', 4, 'latin1');
    expect(decodeConnect(notMqtt)).toMatchObject({ level: -1, reasonCode: 0x84 });
    const level6 = Buffer.from(frame);
    level6[flagsAt - 1] = 6;
    expect(decodeConnect(level6)).toMatchObject({ level: 6, reasonCode: 0x84 });
    const bridge = Buffer.from(frame);
    bridge[flagsAt - 1] |= 0x80; // bit 7: some brokers' bridge flag, not part of the level
    expect(decodeConnect(bridge)).toMatchObject({ cmd: 'connect', protocolVersion: 4 });
    expect(decodeConnect(Buffer.from([0x10, 0x06, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]))).toMatchObject({ level: -1, reasonCode: 0x84 });
  });

  it('exactly the announced fields, and no password without a user name in 3.1.1', () => {
    /** The frame with one more byte after its fields (one-byte Remaining Length). */
    const trailing = (f: Buffer) => {
      const out = Buffer.concat([f, Buffer.from([0])]);
      out[1]++;
      return out;
    };
    const cases: Partial<IConnectPacket>[] = [
      {},
      { username: 'u' },
      { username: 'u', password: Buffer.from('p') },
      { will, username: 'u', password: Buffer.alloc(0) },
      { protocolId: 'MQIsdp', protocolVersion: 3 },
      { protocolVersion: 5, will, properties: { sessionExpiryInterval: 1 } },
    ];
    for (const p of cases) {
      const frame = frameOf(p);
      expect(refusal(frame)).toBe(0);
      expect(refusal(trailing(frame))).toBe(0x81);
    }
    const frame = frameOf({ username: 'u', password: Buffer.from('p') });
    const passwordOnly = Buffer.concat([frame.subarray(0, frame.length - 6), frame.subarray(frame.length - 3)]);
    passwordOnly[1] -= 3;
    passwordOnly[flagsAt] &= ~0x80;
    expect(refusal(passwordOnly)).toBe(0x81);
    const missing = Buffer.from(frame);
    missing[flagsAt] |= 0x04; // a will announced, not there
    expect(refusal(missing)).toBe(0x81);
  });

  it.each([4, 5] as const)('client id, will topic and user name are well-formed UTF-8 without U+0000; not the binary fields (version %s)', (version) => {
    /** The frame with `from` (a unique byte sequence) replaced by `to`, of the same length. */
    const patch = (f: Buffer, from: string, to: number[]) => {
      const out = Buffer.from(f);
      Buffer.from(to).copy(out, f.indexOf(from));
      return out;
    };
    const frame = frameOf({ protocolVersion: version, clientId: 'cid', will: { ...will, payload: Buffer.from('pl') }, username: 'usr', password: Buffer.from('pwd') });
    expect(refusal(frame)).toBe(0);
    expect(refusal(patch(frame, 'cid', [0x63, 0x00, 0x64]))).toBe(0x81);
    expect(refusal(patch(frame, 'w/t', [0x77, 0xff, 0x74]))).toBe(0x81);
    expect(refusal(patch(frame, 'usr', [0xc3, 0x28, 0x72]))).toBe(0x81);
    expect(refusal(patch(frame, 'pl', [0xff, 0x00]))).toBe(0);
    expect(refusal(patch(frame, 'pwd', [0xff, 0x00, 0xfe]))).toBe(0);
    expect(refusal(Buffer.from(frame.subarray(0, frame.indexOf('usr') + 2)))).toBe(0x81); // user name cut short
  });
});

/** A case: its title, the raw properties, the CONNACK code. */
type Case = [string, number[], number];
/** The case titled with its CONNACK code in hex. */
const titled = ([name, bytes, code]: Case): Case => [`${name}: CONNACK 0x${code.toString(16)}`, bytes, code];

const u32 = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const u16 = (n: number) => [n >> 8, n & 0xff];

describe('5.0 CONNECT properties (codec, §3.1.2.11)', () => {
  it.each(([
    ['§3.1.2.11.2 Session Expiry Interval twice', [0x11, ...u32(1), 0x11, ...u32(2)], 0x82],
    ['§3.1.2.11.3 Receive Maximum twice', [0x21, ...u16(1), 0x21, ...u16(2)], 0x82],
    ['§3.1.2.11.3 Receive Maximum 0', [0x21, ...u16(0)], 0x82],
    ['§3.1.2.11.4 Maximum Packet Size twice', [0x27, ...u32(1000), 0x27, ...u32(1000)], 0x82],
    ['§3.1.2.11.4 Maximum Packet Size 0', [0x27, ...u32(0)], 0x82],
    ['§3.1.2.11.5 Topic Alias Maximum twice', [0x22, ...u16(1), 0x22, ...u16(1)], 0x82],
    ['§3.1.2.11.6 Request Response Information twice', [0x19, 1, 0x19, 1], 0x82],
    ['§3.1.2.11.6 Request Response Information 5', [0x19, 5], 0x82],
    ['§3.1.2.11.7 Request Problem Information twice', [0x17, 0, 0x17, 0], 0x82],
    ['§3.1.2.11.7 Request Problem Information 2', [0x17, 2], 0x82],
    ['§3.1.2.11.9 Authentication Method twice', [0x15, ...str('signet-token'), 0x15, ...str('signet-token')], 0x82],
    ['§3.1.2.11.10 Authentication Data twice', [0x15, ...str('signet-token'), 0x16, ...str('a'), 0x16, ...str('b')], 0x82],
    ['§3.1.2.11.10 Authentication Data without Authentication Method', [0x16, ...str('tkn')], 0x82],
    ['§2.2.2.2 Payload Format Indicator (not a CONNECT property)', [0x01, 1], 0x81],
    ['§2.2.2.2 Server Keep Alive (not a CONNECT property)', [0x13, ...u16(10)], 0x81],
    ['§2.2.2.2 Will Delay Interval among the CONNECT properties', [0x18, ...u32(1)], 0x81],
    ['§2.2.2.2 Maximum QoS (a CONNACK property)', [0x24, 1], 0x81],
    ['§2.2.2.2 an identifier 5.0 does not define', [0x7f, 0], 0x81],
    ['§2.2.2.2 a value running past the block', [0x21, 0], 0x81],
    ['[MQTT-1.5.4-1] ill-formed UTF-8 in the Authentication Method', [0x15, 0, 2, 0xc3, 0x28], 0x81],
    ['[MQTT-1.5.7-1] U+0000 in a User Property value', [0x26, ...str('k'), 0, 1, 0], 0x81],
  ] as Case[]).map(titled))('%s', (_, properties, code) => {
    expect(refusal(rawConnect5(properties))).toBe(code);
  });

  it.each(([
    ['§3.1.3.2.2 Will Delay Interval twice', [0x18, ...u32(1), 0x18, ...u32(1)], 0x82],
    ['§3.1.3.2.3 Payload Format Indicator twice', [0x01, 1, 0x01, 1], 0x82],
    ['§3.1.3.2.4 Message Expiry Interval twice', [0x02, ...u32(9), 0x02, ...u32(9)], 0x82],
    ['§3.1.3.2.5 Content Type twice', [0x03, ...str('a'), 0x03, ...str('b')], 0x82],
    ['§3.1.3.2.6 Response Topic twice', [0x08, ...str('r'), 0x08, ...str('r')], 0x82],
    ['§3.1.3.2.7 Correlation Data twice', [0x09, ...str('1'), 0x09, ...str('2')], 0x82],
    ['§2.2.2.2 Session Expiry Interval among the will properties', [0x11, ...u32(1)], 0x81],
    ['§2.2.2.2 Topic Alias among the will properties', [0x23, ...u16(1)], 0x81],
    ['[MQTT-1.5.4-1] ill-formed UTF-8 in the Content Type', [0x03, 0, 1, 0xff], 0x81],
  ] as Case[]).map(titled))('will properties: %s', (_, willProperties, code) => {
    expect(refusal(rawConnect5([], willProperties))).toBe(code);
  });

  it('keeps what may repeat or is valid: User Properties in order, both Byte values, Authentication Data with its method', () => {
    const decoded = decodeConnect(
      rawConnect5(
        [0x26, ...str('b'), ...str('1'), 0x26, ...str('a'), ...str('2'), 0x26, ...str('b'), ...str('3'), 0x17, 0, 0x19, 1, 0x15, ...str('signet-token'), 0x16, ...str('t')],
        [0x26, ...str('k'), ...str('v'), 0x26, ...str('k'), ...str('w'), 0x01, 0],
      ),
    ) as IConnectPacket;
    expect(decoded).not.toBeInstanceOf(ConnectProblem);
    expect(Object.entries(decoded.properties!.userProperties!)).toEqual([
      ['b', ['1', '3']],
      ['a', '2'],
    ]);
    expect(decoded.properties).toMatchObject({ requestProblemInformation: false, requestResponseInformation: true, authenticationMethod: 'signet-token' });
    expect(decoded.will!.properties).toEqual({ userProperties: { k: ['v', 'w'] }, payloadFormatIndicator: false });
  });

  it('keeps an empty User Property value followed by one of the same name (mqtt-packet drops it)', () => {
    const decoded = decodeConnect(rawConnect5([0x26, ...str('k'), ...str(''), 0x26, ...str('k'), ...str('v')])) as IConnectPacket;
    expect(decoded.properties!.userProperties).toEqual({ k: ['', 'v'] });
  });

  it('gives the client Maximum Packet Size read before a problem, so the refusal can respect it', () => {
    const problem = decodeConnect(rawConnect5([0x27, ...u32(64), 0x21, ...u16(0)]));
    expect(problem).toMatchObject({ reasonCode: 0x82, maximumPacketSize: 64 });
    expect(decodeConnect(rawConnect5([0x27, ...u32(64)], [0x18, ...u32(1), 0x18, ...u32(1)]))).toMatchObject({ reasonCode: 0x82, maximumPacketSize: 64 });
  });
});
