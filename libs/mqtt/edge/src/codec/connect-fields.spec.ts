import type { IConnectPacket } from 'mqtt-packet';

import { connectFields, type ConnectFields } from './connect-fields';
import { afterProperties } from './frame-reader';
import { connectFrame, connectPacket } from '../testing/helpers';

const connect = connectPacket;
const frameOf = connectFrame;

/** The fields as text (binary ones as hex), or null when absent: what the offsets point at. */
function read(frame: Buffer, f: ConnectFields) {
  const text = (start: number, end: number, encoding: 'utf8' | 'hex' = 'utf8') => (start < 0 ? null : frame.toString(encoding, start, end));
  return {
    protocolName: text(f.protocolName, f.protocolNameEnd),
    level: frame[f.protocolNameEnd],
    flags: f.flags,
    keepalive: frame.readUInt16BE(f.protocolNameEnd + 2),
    clientId: text(f.clientId, f.clientIdEnd),
    willTopic: text(f.willTopic, f.willTopicEnd),
    willPayload: text(f.willPayload, f.willPayloadEnd, 'hex'),
    username: text(f.username, f.usernameEnd),
    password: text(f.password, f.passwordEnd, 'hex'),
    end: f.end,
  };
}

/** The Connect Flags the packet's fields call for (§3.1.2.3). */
const flagsOf = (p: IConnectPacket): number =>
  (p.username !== undefined ? 0x80 : 0) |
  (p.password !== undefined ? 0x40 : 0) |
  (p.will !== undefined ? 0x04 | ((p.will.qos ?? 0) << 3) | (p.will.retain ? 0x20 : 0) : 0) |
  (p.clean ? 0x02 : 0);

/** The same frame with its Remaining Length (one byte here) fitted to a new body. */
function withBody(frame: Buffer, body: Buffer): Buffer {
  expect(frame[1]).toBeLessThan(0x80);
  const out = Buffer.concat([frame.subarray(0, 1), Buffer.from([body.length]), body]);
  expect(out[1]).toBeLessThan(0x80);
  return out;
}

const will = { topic: 'dev/1/status', payload: Buffer.from([0, 1, 2]), qos: 1 as const, retain: true };

describe('connectFields (the CONNECT layout)', () => {
  it.each([
    ['3.1.1, client id only', {}],
    ['3.1.1, user name and password', { username: 'user_1', password: Buffer.from('tkn') }],
    ['3.1.1, user name only', { username: 'only-user' }],
    ['3.1.1, will, user name and password', { will, username: 'ü', password: Buffer.alloc(0) }],
    ['3.1.1, will only, empty client id', { will, clientId: '' }],
    ['3.1 (MQIsdp)', { protocolId: 'MQIsdp', protocolVersion: 3, username: 'u', password: Buffer.from('p') }],
  ] as [string, Partial<IConnectPacket>][])('finds every field of a %s CONNECT', (_, p) => {
    const frame = frameOf(p);
    const packet = connect(p);
    const f = connectFields(frame);
    expect(f).not.toBeNull();
    expect(read(frame, f!)).toEqual({
      protocolName: packet.protocolId,
      level: packet.protocolVersion,
      flags: flagsOf(packet),
      keepalive: packet.keepalive,
      clientId: packet.clientId,
      willTopic: packet.will?.topic ?? null,
      willPayload: packet.will === undefined ? null : (packet.will.payload as Buffer).toString('hex'),
      username: packet.username ?? null,
      password: packet.password?.toString('hex') ?? null,
      end: frame.length,
    });
    expect(f!.properties).toBe(-1);
    expect(f!.willProperties).toBe(-1);
  });

  it.each([
    ['without properties', {}],
    ['with properties, a will with properties, user name and password', {
      properties: { sessionExpiryInterval: 30, userProperties: { k: 'v' } },
      will: { ...will, properties: { contentType: 'text/plain' } },
      username: 'u',
      password: Buffer.from('p'),
    }],
    ['with a will without properties and a password', { will, username: 'u', password: Buffer.from('secret') }],
    ['with a property block of a two-byte length', { properties: { userProperties: { k: 'v'.repeat(200) } }, username: 'u' }],
  ] as [string, Partial<IConnectPacket>][])('finds every field of a 5.0 CONNECT %s', (_, p) => {
    const packet = connect({ ...p, protocolVersion: 5 });
    const frame = frameOf(packet);
    const f = connectFields(frame);
    expect(f).not.toBeNull();
    expect(read(frame, f!)).toMatchObject({
      protocolName: 'MQTT',
      level: 5,
      clientId: packet.clientId,
      flags: flagsOf(packet),
      willTopic: packet.will?.topic ?? null,
      willPayload: packet.will === undefined ? null : (packet.will.payload as Buffer).toString('hex'),
      username: packet.username ?? null,
      password: packet.password?.toString('hex') ?? null,
      end: frame.length,
    });
    // Each property block ends where the next field begins; the client id and will topic read right show they do.
    expect(f!.properties).toBe(f!.protocolNameEnd + 4);
    expect(afterProperties(frame, f!.properties)).toBe(f!.clientId - 2);
    if (packet.will === undefined) expect(f!.willProperties).toBe(-1);
    else expect(afterProperties(frame, f!.willProperties)).toBe(f!.willTopic - 2);
  });

  it('is null for a frame cut anywhere short of its last field (3.1.1 and 5.0)', () => {
    const cases: [Buffer, boolean][] = [
      [frameOf({ will, username: 'u', password: Buffer.from('p') }), false],
      [frameOf({ username: 'u', password: Buffer.alloc(0) }), false], // an empty last field still needs its length
      [
        frameOf({
          protocolVersion: 5,
          properties: { sessionExpiryInterval: 5 },
          will: { ...will, properties: { contentType: 'c' } },
          username: 'u',
          password: Buffer.from('p'),
        }),
        true,
      ],
    ];
    for (const [frame] of cases) {
      expect(connectFields(frame)).not.toBeNull();
      for (let cut = 2; cut < frame.length; cut++) expect(connectFields(withBody(frame, frame.subarray(2, cut)))).toBeNull();
    }
  });

  it('is null when a length runs past the frame', () => {
    const frame = frameOf({ will, username: 'user', password: Buffer.from('pass') });
    const f = connectFields(frame)!;
    for (const lengthAt of [2, f.clientId - 2, f.willTopic - 2, f.willPayload - 2, f.username - 2, f.password - 2]) {
      const longer = Buffer.from(frame);
      longer.writeUInt16BE(longer.readUInt16BE(lengthAt) + 1, lengthAt);
      expect(connectFields(longer)).toBeNull();
      longer.writeUInt16BE(0xffff, lengthAt);
      expect(connectFields(longer)).toBeNull();
    }
  });

  it('is null when a 5.0 property block runs past the frame or its length is not terminated', () => {
    const frame = frameOf({ protocolVersion: 5, will: { ...will, properties: { contentType: 'c' } } });
    // Copied out: the result is refilled by the next call.
    const { properties, willProperties } = connectFields(frame)!;
    for (const blockAt of [properties, willProperties]) {
      const longer = Buffer.from(frame);
      longer[blockAt] = frame.length;
      expect(connectFields(longer)).toBeNull();
    }
    // Property Length 0x80 0x80 0x80 0x80: five bytes would be needed (§1.5.5).
    const vbi = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x00]);
    const unterminated = withBody(frame, Buffer.concat([frame.subarray(2, properties), vbi, frame.subarray(properties + 1)]));
    expect(connectFields(unterminated)).toBeNull();
  });

  it('is null when the flags announce a field that is not there', () => {
    const frame = frameOf({});
    const flagsAt = connectFields(frame)!.protocolNameEnd + 1;
    for (const flag of [0x80, 0x40, 0x04]) {
      const announced = Buffer.from(frame);
      announced[flagsAt] |= flag;
      expect(connectFields(announced)).toBeNull();
    }
    // A password flag without a user name only moves the fields: that rule is connectFieldsFit's.
    const passwordOnly = withBody(frame, Buffer.concat([frame.subarray(2), Buffer.from([0, 1, 0x70])]));
    passwordOnly[flagsAt] |= 0x40;
    expect(read(passwordOnly, connectFields(passwordOnly)!)).toMatchObject({ username: null, password: '70', end: passwordOnly.length });
  });

  it('reports bytes after the fields, and fields the flags do not announce, through `end`', () => {
    const frame = frameOf({ username: 'u', password: Buffer.from('p') });
    const trailing = withBody(frame, Buffer.concat([frame.subarray(2), Buffer.from([0])]));
    expect(connectFields(trailing)!.end).toBe(frame.length);
    const flagsAt = connectFields(frame)!.protocolNameEnd + 1;
    const unannounced = Buffer.from(frame);
    unannounced[flagsAt] &= ~0xc0;
    expect(read(unannounced, connectFields(unannounced)!)).toMatchObject({ username: null, password: null, end: frame.length - 6 });
  });

  it('is null when the header (protocol name, level, flags, keep alive) is short', () => {
    const frame = frameOf({});
    for (const cut of [2, 3, 4, 8, 9, 10, 11]) expect(connectFields(withBody(frame, frame.subarray(2, cut)))).toBeNull();
    const longName = Buffer.from(frame);
    longName.writeUInt16BE(frame.length, 2);
    expect(connectFields(longName)).toBeNull();
  });

  it('refills one object: absent fields are -1 again after a CONNECT that had them', () => {
    const everything = frameOf({ protocolVersion: 5, properties: { sessionExpiryInterval: 1 }, will, username: 'u', password: Buffer.from('p') });
    const full = connectFields(everything);
    const bare = connectFields(frameOf({}));
    expect(bare).toBe(full);
    expect(bare).toMatchObject({ properties: -1, willProperties: -1, willTopic: -1, willTopicEnd: -1, willPayload: -1, willPayloadEnd: -1 });
    expect(bare).toMatchObject({ username: -1, usernameEnd: -1, password: -1, passwordEnd: -1 });
  });
});
