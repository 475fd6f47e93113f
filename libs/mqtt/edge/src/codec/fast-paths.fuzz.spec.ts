import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';

import { decodeConnect, decodeConnectFast, decodePublishFast, peekProtocolLevel, type ProtocolVersion } from './codec';
import { connectFields } from './connect-fields';
import { connectPacket, prng, varInt } from '../testing/helpers';

/**
 * The hand decoders (and the CONNECT walk they read) against mqtt-packet on seeded random packets and on
 * mutations of them: whatever a fast path decodes, mqtt-packet decodes the same; what it cannot, it leaves.
 */
const SEED = Number(process.env.CODEC_FUZZ_SEED ?? 0x5eed);
const CASES = 1000;

function reference(frame: Buffer, version?: ProtocolVersion): Packet | null {
  let packet: Packet | null = null;
  let failed = false;
  const parser = mqttPacket.parser(version === undefined ? {} : { protocolVersion: version });
  parser.on('packet', (p: Packet) => (packet = p));
  parser.on('error', () => (failed = true));
  try {
    parser.parse(frame);
  } catch {
    return null;
  }
  return failed ? null : packet;
}

const connectView = (p: Packet | null) => {
  const c = p as IConnectPacket;
  return { protocolId: c.protocolId, protocolVersion: c.protocolVersion, clean: c.clean, keepalive: c.keepalive, clientId: c.clientId, username: c.username, password: c.password, will: c.will };
};

const publishView = (p: Packet | null) => {
  const c = p as IPublishPacket;
  return { topic: c.topic, payload: c.payload, qos: c.qos, retain: c.retain, dup: c.dup, messageId: c.qos > 0 ? c.messageId : undefined };
};

function text(rand: () => number, max: number): string {
  const alphabet = ['a', 'b', '/', '-', 'ü', '€', '0', '_'];
  let s = '';
  const n = Math.floor(rand() * max);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

function bytes(rand: () => number, max: number): Buffer {
  const out = Buffer.alloc(Math.floor(rand() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function randomConnect(rand: () => number): Buffer {
  const version = ([3, 4, 4, 5] as const)[Math.floor(rand() * 4)];
  const clean = rand() < 0.7;
  const p: Partial<IConnectPacket> = {
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean,
    keepalive: Math.floor(rand() * 65536),
    // mqtt-packet generates an empty client id only for 3.1.1/5.0 with clean session.
    clientId: text(rand, 30) || (version === 3 || !clean ? 'c' : ''),
  };
  if (rand() < 0.7) p.username = text(rand, 40);
  if (p.username !== undefined && rand() < 0.8) p.password = bytes(rand, 60);
  if (rand() < 0.2) p.will = { topic: text(rand, 20) || 'w', payload: bytes(rand, 20), qos: 1, retain: rand() < 0.5 };
  if (version === 5 && rand() < 0.5) p.properties = { sessionExpiryInterval: Math.floor(rand() * 1000), receiveMaximum: 1 + Math.floor(rand() * 100) };
  return mqttPacket.generate(connectPacket(p), { protocolVersion: version });
}

function randomPublish(rand: () => number, version: ProtocolVersion): { frame: Buffer; hasProperties: boolean } {
  const qos = Math.floor(rand() * 3) as 0 | 1 | 2;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: text(rand, 30) || 't',
    payload: bytes(rand, 300),
    qos,
    retain: rand() < 0.3,
    dup: qos > 0 && rand() < 0.3,
    messageId: qos > 0 ? 1 + Math.floor(rand() * 65535) : undefined,
  };
  const hasProperties = version === 5 && rand() < 0.2;
  if (hasProperties) packet.properties = { contentType: text(rand, 10) };
  return { frame: mqttPacket.generate(packet, { protocolVersion: version }), hasProperties };
}

/** A copy with a few bytes after the fixed header changed, cut short or extended; the Remaining Length fits the new body. */
function mutate(rand: () => number, frame: Buffer): Buffer {
  let i = 1;
  while (frame[i] & 0x80) i++;
  let body = Buffer.from(frame.subarray(i + 1));
  const kind = rand();
  if (kind < 0.5 && body.length > 0) {
    for (let k = 0, n = 1 + Math.floor(rand() * 3); k < n; k++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
  } else if (kind < 0.8) {
    body = body.subarray(0, Math.floor(rand() * body.length));
  } else {
    body = Buffer.concat([body, bytes(rand, 8)]);
  }
  const first = rand() < 0.1 ? frame[0] ^ (1 << Math.floor(rand() * 4)) : frame[0];
  return Buffer.concat([Buffer.from([first]), varInt(body.length), body]);
}

describe(`fast paths against mqtt-packet on random and mutated packets (seed ${SEED})`, () => {
  it('CONNECT: the one walk, the hand decoder and decodeConnect agree with mqtt-packet', () => {
    const rand = prng(SEED);
    let fastDecoded = 0;
    for (let n = 0; n < CASES; n++) {
      const original = randomConnect(rand);
      for (const frame of [original, mutate(rand, original)]) {
        const level = peekProtocolLevel(frame);
        const ref = reference(frame);
        const fast = decodeConnectFast(frame);
        if (fast !== null) {
          fastDecoded++;
          expect(connectView(fast)).toEqual(connectView(ref));
        }
        if (level === 3 || level === 4 || level === 5) {
          const decoded = decodeConnect(frame, level, connectFields(frame, level === 5));
          // The edge never accepts what mqtt-packet refuses, and reads the same fields when both accept.
          if (decoded !== null) expect(connectView(decoded)).toEqual(connectView(ref));
        }
      }
      // An unmutated 3.1/3.1.1 CONNECT without a will takes the fast path.
      const p = reference(original) as IConnectPacket;
      if (p.protocolVersion !== 5 && p.will === undefined) expect(decodeConnectFast(original)).not.toBeNull();
    }
    expect(fastDecoded).toBeGreaterThan(CASES / 2);
  });

  it.each([4, 5] as const)('PUBLISH: the hand decoder agrees with mqtt-packet (version %s)', (version) => {
    const rand = prng(SEED + version);
    for (let n = 0; n < CASES; n++) {
      const { frame: original, hasProperties } = randomPublish(rand, version);
      for (const frame of [original, mutate(rand, original)]) {
        if (frame[0] >> 4 !== 3) continue;
        const fast = decodePublishFast(frame, version);
        if (fast !== null) expect(publishView(fast)).toEqual(publishView(reference(frame, version)));
      }
      if (!hasProperties) expect(decodePublishFast(original, version)).not.toBeNull();
    }
  });
});
