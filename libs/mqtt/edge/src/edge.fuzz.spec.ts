/**
 * Bounded fuzzing at the packet boundary: random bytes and mutated valid
 * packets over real sockets to one edge. After every batch a well-behaved
 * client still connects and gets its own message; nothing reaches the edge's
 * error log (a handler that threw) and the process does not crash.
 * Seeded: FUZZ_SEED=<n> reproduces a run; the seed is in the test name.
 */
import type { IConnackPacket, IDisconnectPacket, ISubackPacket, Packet } from 'mqtt-packet';
import { MqttEdge } from './edge';
import {
  closesWithin,
  connect,
  connectBytes,
  decodeAll,
  encodePacket,
  endAllClients,
  endClient,
  openRaw,
  ORG_A,
  prng,
  sleep,
  TestAuthenticator,
  UNLIMITED_CONNECT_RATE,
  varInt,
  waitFor,
  type RawConnection,
  type Transport,
  type Version,
} from './testing/helpers';
import type { EdgeLogger } from './core/types';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed1e55) >>> 0;
const CASES = 2000;
const BATCH = 50;

const errors: object[] = [];
const logger: EdgeLogger = {
  info: () => undefined,
  debug: () => undefined,
  warn: () => undefined,
  error: (obj) => errors.push(obj),
};

let edge: MqttEdge;
let ports: Record<Transport, number>;
const url = (transport: Transport): string => (transport === 'tcp' ? `mqtt://127.0.0.1:${ports.tcp}` : `ws://127.0.0.1:${ports.ws}/mqtt`);

beforeAll(async () => {
  edge = new MqttEdge({
    authenticator: new TestAuthenticator(),
    logger,
    // 2,000 cases from 127.0.0.1 in seconds, most as one user: no connect rate limit.
    limits: { maxPacketSize: 4096, connectTimeoutMs: 300, sweepIntervalMs: 50, maxTopicLength: 256, maxTopicLevels: 16, ...UNLIMITED_CONNECT_RATE },
  });
  ports = { tcp: (await edge.listenTcp(0, '127.0.0.1')).port, ws: (await edge.listenWebSocket(0, '127.0.0.1')).port };
});

afterAll(async () => {
  await endAllClients();
  await edge.close();
});

/** A PUBLISH built by hand so its topic bytes can be anything (mqtt-packet would re-encode them). */
function publishBytes(topic: Buffer, qos: 0 | 1, version: Version, properties = Buffer.from([0])): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(topic.length);
  const parts = [len, topic];
  if (qos > 0) parts.push(Buffer.from([0, 1]));
  if (version === 5) parts.push(properties);
  parts.push(Buffer.from('payload'));
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), varInt(body.length), body]);
}

/** A CONNECT whose client id bytes can be anything. */
function connectWithIdBytes(version: Version, id: Buffer): Buffer {
  const marker = 'IDIDIDID';
  const base = connectBytes(version, marker, `fz@${ORG_A}`, 'good');
  const at = base.indexOf(marker);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(id.length);
  const body = Buffer.concat([base.subarray(2, at - 2), len, id, base.subarray(at + marker.length)]);
  return Buffer.concat([Buffer.from([0x10]), varInt(body.length), body]);
}

const INVALID_UTF8 = [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff]), Buffer.from([0xe2, 0x82])];

function validPackets(version: Version, n: number): Packet[] {
  return [
    { cmd: 'publish', topic: `users/fz/${n}`, payload: Buffer.from('x'), qos: 1, retain: n % 2 === 0, dup: false, messageId: 1 + (n % 60000) },
    { cmd: 'publish', topic: `users/fz/q2`, payload: Buffer.alloc(n % 300), qos: 2, retain: false, dup: false, messageId: 7 },
    { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'users/fz/#', qos: 1 }, { topic: 'users/+/x', qos: 2 }] },
    { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['users/fz/#'] },
    { cmd: 'pubrel', messageId: 7 },
    { cmd: 'puback', messageId: 9 },
    { cmd: 'pingreq' },
    version === 5 ? { cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'signet-token' } } : { cmd: 'pingreq' },
    { cmd: 'disconnect' },
  ];
}

/** One case: the bytes a client sends (a CONNECT first, unless the case is raw noise). */
function makeCase(rand: () => number, n: number): { version: Version; bytes: Buffer } {
  const version: Version = rand() < 0.5 ? 4 : 5;
  const int = (k: number): number => Math.floor(rand() * k);
  const hello = connectBytes(version, `fz-${n}`, `fz@${ORG_A}`, 'good');
  const mutate = (buf: Buffer): Buffer => {
    const b = Buffer.from(buf);
    switch (int(4)) {
      case 0: // bit flips
        for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
        return b;
      case 1: // truncation
        return b.subarray(0, int(b.length));
      case 2: // remaining-length corruption (§2.2.3)
        b[1] = int(256);
        return b;
      default: // overlong / oversized length fields
        return Buffer.concat([b.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0xff, int(2) ? 0x7f : 0x01]), b.subarray(2)]);
    }
  };
  switch (int(8)) {
    case 0: {
      const raw = Buffer.alloc(int(300));
      for (let i = 0; i < raw.length; i++) raw[i] = int(256);
      return { version, bytes: raw };
    }
    case 1:
      return { version, bytes: mutate(hello) };
    case 2: {
      const packets = validPackets(version, n);
      const p = encodePacket(packets[int(packets.length)]!, version);
      return { version, bytes: Buffer.concat([hello, mutate(p)]) };
    }
    case 3: {
      // 5.0 property block claiming more bytes than the packet holds.
      const props = Buffer.from([0x20 + int(40), 0x02, 0x00]);
      return { version: 5, bytes: Buffer.concat([connectBytes(5, `fz-${n}`, `fz@${ORG_A}`, 'good'), publishBytes(Buffer.from('users/fz/p'), 1, 5, props)]) };
    }
    case 4:
      return { version, bytes: Buffer.concat([hello, publishBytes(Buffer.concat([Buffer.from('users/fz/'), INVALID_UTF8[int(4)]!]), int(2) as 0 | 1, version)]) };
    case 5:
      return { version, bytes: connectWithIdBytes(version, Buffer.concat([Buffer.from('fz'), INVALID_UTF8[int(4)]!])) };
    case 6:
      return { version, bytes: Buffer.concat([hello, publishBytes(Buffer.alloc(0), int(2) as 0 | 1, version)]) };
    default: {
      const filters = ['#/#', 'a/#/#', '##', 'a/b#', '+#', '', `${'l/'.repeat(40)}x`];
      const p = encodePacket({ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: filters[int(filters.length)]!, qos: 1 }] }, version);
      return { version, bytes: Buffer.concat([hello, p]) };
    }
  }
}

/** A well-behaved client connects and receives its own message. */
async function stillServing(transport: Transport, version: Version): Promise<void> {
  const c = await connect(url(transport), version, { username: `ok@${ORG_A}`, password: 'good' });
  const got: string[] = [];
  c.on('message', (topic) => got.push(topic));
  await c.subscribeAsync('users/ok/#', { qos: 1 });
  await c.publishAsync('users/ok/ping', 'x', { qos: 1 });
  await waitFor(() => got.length === 1, 3000, 'own message');
  await endClient(c);
}

describe('packet-boundary fuzzing', () => {
  it(`${CASES} random and mutated packets over tcp and ws leave the edge serving (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    for (let start = 0; start < CASES; start += BATCH) {
      const open: Promise<RawConnection>[] = [];
      for (let n = start; n < start + BATCH; n++) {
        const { bytes } = makeCase(rand, n);
        const transport: Transport = n % 4 === 3 ? 'ws' : 'tcp';
        open.push(
          openRaw(ports[transport], transport).then((conn) => {
            conn.send(bytes);
            return conn;
          }),
        );
      }
      const conns = await Promise.all(open);
      await sleep(20);
      for (const conn of conns) conn.destroy();
      await stillServing(start % 2 === 0 ? 'tcp' : 'ws', (start / BATCH) % 2 === 0 ? 5 : 4);
      expect(errors).toEqual([]);
    }
    await waitFor(() => edge.stats().connections === 0, 3000, 'all fuzz sockets closed');
  }, 30_000);

  describe.each([4, 5] as Version[])('MQTT version %i', (version) => {
    const v5 = version === 5;

    async function afterConnect(bytes: Buffer): Promise<{ conn: RawConnection; closed: boolean; packets: Packet[] }> {
      const conn = await openRaw(ports.tcp, 'tcp');
      conn.send(connectBytes(version, `fz-spec-${version}-${Math.random()}`, `fz@${ORG_A}`, 'good'));
      await waitFor(() => conn.received().length > 0, 2000, 'CONNACK');
      expect((decodeAll(conn.received(), version)[0] as IConnackPacket).cmd).toBe('connack');
      conn.send(bytes);
      const closed = await closesWithin(conn, 1000);
      return { conn, closed, packets: decodeAll(conn.received(), version) };
    }

    it.each(INVALID_UTF8.map((b) => [b.toString('hex'), b] as const))(
      '[MQTT-1.5.3-1] invalid UTF-8 (%s) in a PUBLISH topic closes the connection',
      async (_hex, bad) => {
        const { closed, packets } = await afterConnect(publishBytes(Buffer.concat([Buffer.from('users/fz/'), bad]), 1, version));
        expect(closed).toBe(true);
        expect(packets.some((p) => p.cmd === 'puback')).toBe(false);
        if (v5) expect((packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined)?.reasonCode).toBe(0x81);
      },
    );

    it('[MQTT-1.5.3-1] a PUBLISH topic holding a real U+FFFD is valid UTF-8 and accepted', async () => {
      const { conn, closed, packets } = await afterConnect(publishBytes(Buffer.from('users/fz/\uFFFD'), 1, version));
      expect(closed).toBe(false);
      expect(packets.some((p) => p.cmd === 'puback')).toBe(true);
      conn.destroy();
    });

    it('[MQTT-4.7.3-1] a zero-length PUBLISH topic closes the connection', async () => {
      const { closed, packets } = await afterConnect(publishBytes(Buffer.alloc(0), 0, version));
      expect(closed).toBe(true);
      if (v5) expect((packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined)?.reasonCode).toBe(0x90);
    });

    it.each(['#/#', 'a/#/#', 'a/b#'])('[MQTT-4.7.1-2] filter %j with a misplaced # gets a SUBACK failure, the connection stays', async (filter) => {
      const { conn, closed, packets } = await afterConnect(
        encodePacket({ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: filter, qos: 1 }] }, version),
      );
      expect(closed).toBe(false);
      expect((packets.find((p) => p.cmd === 'suback') as ISubackPacket).granted).toEqual([v5 ? 0x8f : 0x80]);
      conn.destroy();
    });
  });
});
