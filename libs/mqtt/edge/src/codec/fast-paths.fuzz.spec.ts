import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';

import { decodePublishFast, type ProtocolVersion } from './codec';
import { ConnectProblem, decodeConnect } from './connect-decoder';
import { connectFields } from './connect-fields';
import { connectPacket, prng, varInt } from '../testing/helpers';

/**
 * The hand decoders (and the CONNECT walk they read) against mqtt-packet on seeded random packets and on
 * mutations of them: whatever a hand decoder accepts, mqtt-packet decodes the same. The PUBLISH fast path
 * leaves to mqtt-packet what it cannot decode; the CONNECT decoder is the only one and refuses, beyond what
 * mqtt-packet refuses, what the protocol does (trailing bytes, repeated properties, ill-formed UTF-8…).
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
  return { protocolId: c.protocolId, protocolVersion: c.protocolVersion, clean: c.clean, keepalive: c.keepalive, clientId: c.clientId, username: c.username, password: c.password, will: c.will, properties: c.properties };
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

/**
 * User Properties, some names repeated (mqtt-packet generates one pair per value). Values are not empty:
 * mqtt-packet's parser drops an empty value followed by one of the same name (it tests the first for
 * truthiness); the decoder keeps both (connect-decoder.spec.ts).
 */
function userProperties(rand: () => number): Record<string, string | string[]> {
  const value = () => text(rand, 8) || 'v';
  const out: Record<string, string | string[]> = {};
  for (let i = 0, n = 1 + Math.floor(rand() * 3); i < n; i++) out[`${text(rand, 5)}${i}`] = rand() < 0.3 ? [value(), value()] : value();
  return out;
}

function randomProperties(rand: () => number): IConnectPacket['properties'] {
  const p: NonNullable<IConnectPacket['properties']> = {};
  if (rand() < 0.5) p.sessionExpiryInterval = Math.floor(rand() * 2 ** 32);
  if (rand() < 0.5) p.receiveMaximum = 1 + Math.floor(rand() * 65535);
  if (rand() < 0.3) p.maximumPacketSize = 1 + Math.floor(rand() * 2 ** 20);
  if (rand() < 0.3) p.topicAliasMaximum = Math.floor(rand() * 65536);
  if (rand() < 0.2) p.requestResponseInformation = rand() < 0.5;
  if (rand() < 0.2) p.requestProblemInformation = rand() < 0.5;
  if (rand() < 0.3) p.userProperties = userProperties(rand);
  if (rand() < 0.2) {
    p.authenticationMethod = text(rand, 12);
    if (rand() < 0.5) p.authenticationData = bytes(rand, 20);
  }
  return p;
}

function randomWillProperties(rand: () => number): NonNullable<IConnectPacket['will']>['properties'] {
  const p: NonNullable<NonNullable<IConnectPacket['will']>['properties']> = {};
  if (rand() < 0.3) p.willDelayInterval = Math.floor(rand() * 100);
  if (rand() < 0.3) p.payloadFormatIndicator = rand() < 0.5;
  if (rand() < 0.3) p.messageExpiryInterval = Math.floor(rand() * 1000);
  if (rand() < 0.3) p.contentType = text(rand, 10);
  if (rand() < 0.3) p.responseTopic = text(rand, 10) || 'r';
  if (rand() < 0.3) p.correlationData = bytes(rand, 10);
  if (rand() < 0.3) p.userProperties = userProperties(rand);
  return p;
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
  if (rand() < 0.3) {
    p.will = { topic: text(rand, 20) || 'w', payload: bytes(rand, 20), qos: Math.floor(rand() * 3) as 0 | 1 | 2, retain: rand() < 0.5 };
    if (version === 5 && rand() < 0.6) p.will.properties = randomWillProperties(rand);
  }
  if (version === 5 && rand() < 0.7) p.properties = randomProperties(rand);
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
  it('CONNECT: the one walk and the decoder agree with mqtt-packet (3.1, 3.1.1, 5.0; with and without will)', () => {
    const rand = prng(SEED);
    const decodedBy: Record<string, number> = {};
    for (let n = 0; n < CASES; n++) {
      const original = randomConnect(rand);
      for (const frame of [original, mutate(rand, original)]) {
        const ref = reference(frame);
        const decoded = decodeConnect(frame);
        if (!(decoded instanceof ConnectProblem)) {
          // The edge never accepts what mqtt-packet refuses, and reads the same fields when both accept.
          expect(ref).not.toBeNull();
          expect(connectView(decoded)).toEqual(connectView(ref));
          // The walk found the fields the decoder read.
          expect(connectFields(frame)?.end).toBe(frame.length);
        } else if (decoded.reasonCode === 0x84) {
          // Not MQTT 3.1/3.1.1/5.0: mqtt-packet refuses it too.
          expect(ref).toBeNull();
        }
      }
      // Every unmutated CONNECT decodes, in each of the four shapes.
      const p = reference(original) as IConnectPacket;
      const decoded = decodeConnect(original);
      expect(decoded).not.toBeInstanceOf(ConnectProblem);
      const shape = `${p.protocolVersion === 5 ? '5.0' : '3.1.1'}${p.will === undefined ? '' : ' will'}`;
      decodedBy[shape] = (decodedBy[shape] ?? 0) + 1;
    }
    expect(Object.keys(decodedBy).sort()).toEqual(['3.1.1', '3.1.1 will', '5.0', '5.0 will']);
    for (const count of Object.values(decodedBy)) expect(count).toBeGreaterThan(CASES / 20);
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
