/**
 * MQTT 3.1.1 conformance support (docs/conformance/mqtt-3.1.1.md): one edge per spec file, and a
 * byte-level 3.1.1 client that can send what mqtt.js refuses to (bad flags, missing fields, DUP on
 * QoS 0…) and reads back exactly what the edge wrote.
 */
import type { IPublishPacket, ISubackPacket, Packet } from 'mqtt-packet';
import {
  decodeAll,
  encodePacket,
  endAllClients,
  openRaw,
  ORG_A,
  startEdge,
  waitFor,
  type RawConnection,
  type TestEdge,
  type Transport,
} from '../testing/helpers';
import type { EdgeLimits } from '../core/limits';

/** Starts one edge for the file (beforeAll) and closes it with every client (afterAll). */
export function useEdge(limits: Partial<EdgeLimits> = {}): () => TestEdge {
  let t: TestEdge | undefined;
  beforeAll(async () => {
    t = await startEdge(limits);
  });
  afterAll(async () => {
    for (const c of opened) c.destroy();
    opened.clear();
    await endAllClients();
    await t?.close();
  });
  return () => t!;
}

/** Raw connections of the file, destroyed before its edge closes. */
const opened = new Set<Raw311>();

let seq = 0;
/** A client id / topic segment unique within the run (1–23 alphanumerics). */
export const uid = (prefix = 'c'): string => `${prefix}${++seq}x${Math.random().toString(36).slice(2, 8)}`;

export interface Connect311 {
  clientId?: string;
  clean?: boolean;
  /** `<subject>` of the username `<subject>@org_…` (ignored when `username` is given). */
  user?: string;
  username?: string | null;
  password?: string | null;
  keepalive?: number;
  will?: { topic: string | Buffer; payload: string; qos?: number; retain?: boolean };
  /** XORed into the Connect Flags byte after encoding, to break a rule on purpose. */
  flipFlags?: number;
  /** The first byte of the fixed header (default 0x10). */
  header?: number;
}

const str = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** A 3.1.1 CONNECT encoded by hand, every flag under the test's control. */
export function connect311(o: Connect311 = {}): Buffer {
  const username = o.username === undefined ? `${o.user ?? 'conf'}@${ORG_A}` : o.username;
  const password = o.password === undefined ? 'good' : o.password;
  let flags = o.clean === false ? 0 : 0x02;
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (username !== null) flags |= 0x80;
  if (password !== null) flags |= 0x40;
  flags ^= o.flipFlags ?? 0;
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(o.keepalive ?? 60);
  const parts = [str('MQTT'), Buffer.from([4, flags]), ka, str(o.clientId ?? uid())];
  if (o.will) parts.push(str(o.will.topic), str(o.will.payload));
  if (username !== null) parts.push(str(username));
  if (password !== null) parts.push(str(password));
  return frame(o.header ?? 0x10, Buffer.concat(parts));
}

/** A packet from its first byte and body (Remaining Length computed). */
export function frame(first: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}

/** A 3.1.1 PUBLISH encoded by hand (DUP and QoS 3 allowed). */
export function publish311(topic: string, payload: string, o: { qos?: number; id?: number; dup?: boolean; retain?: boolean } = {}): Buffer {
  const qos = o.qos ?? 0;
  const first = 0x30 | (o.dup ? 0x08 : 0) | (qos << 1) | (o.retain ? 1 : 0);
  const id = Buffer.alloc(2);
  id.writeUInt16BE(o.id ?? 1);
  return frame(first, Buffer.concat([str(topic), qos > 0 ? id : Buffer.alloc(0), Buffer.from(payload)]));
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Connects, sends `bytes` and expects the edge to close the connection (a protocol violation [MQTT-4.8.0-1]). */
export async function closesOn(t: TestEdge, bytes: Buffer): Promise<void> {
  const c = await Raw311.connected(t);
  c.send(bytes);
  expect(await c.closesWithin(1500)).toBe(true);
}

/** A byte-level 3.1.1 client with what it received, decoded. */
export class Raw311 {
  private constructor(readonly conn: RawConnection) {}

  static async open(t: TestEdge, transport: Transport = 'tcp'): Promise<Raw311> {
    const c = new Raw311(await openRaw(t, transport));
    opened.add(c);
    return c;
  }

  /** Opens, sends CONNECT and waits for the CONNACK (which must be accepted). */
  static async connected(t: TestEdge, o: Connect311 = {}, transport: Transport = 'tcp'): Promise<Raw311> {
    const c = await Raw311.open(t, transport);
    c.send(connect311(o));
    await c.waitFor((p) => p.cmd === 'connack', 'CONNACK');
    const connack = c.packets()[0] as { cmd: string; returnCode?: number };
    if (connack.cmd !== 'connack' || connack.returnCode !== 0) throw new Error(`CONNECT refused: ${JSON.stringify(connack)}`);
    return c;
  }

  send(bytes: Buffer): void {
    this.conn.send(bytes);
  }

  /** SUBSCRIBE to one filter; resolves with the SUBACK's return codes. */
  async subscribe(filter: string, qos: number, messageId = 1): Promise<number[]> {
    const before = this.of('suback').length;
    this.sendPacket({ cmd: 'subscribe', messageId, subscriptions: [{ topic: filter, qos: qos as 0 | 1 | 2 }] });
    const subacks = (await this.waitFor((p) => p.cmd === 'suback', 'SUBACK', before + 1)) as ISubackPacket[];
    return subacks[before].granted as number[];
  }

  /** Received PUBLISH packets. */
  publishes(): IPublishPacket[] {
    return this.of<IPublishPacket>('publish');
  }

  sendPacket(packet: Packet): void {
    this.conn.send(encodePacket(packet, 4));
  }

  /** Everything received so far, decoded as 3.1.1. */
  packets(): Packet[] {
    return decodeAll(this.conn.received(), 4);
  }

  /** Received packets of one type. */
  of<P extends Packet>(cmd: P['cmd']): P[] {
    return this.packets().filter((p) => p.cmd === cmd) as P[];
  }

  bytes(): Buffer {
    return this.conn.received();
  }

  async waitFor(predicate: (p: Packet) => boolean, what: string, count = 1): Promise<Packet[]> {
    await waitFor(() => this.packets().filter(predicate).length >= count, 3000, what);
    return this.packets().filter(predicate);
  }

  /** True when the edge closes the connection within `ms` (no timer left behind once it has). */
  closesWithin(ms = 1000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    return Promise.race([this.conn.closed.then(() => true), timeout]).finally(() => clearTimeout(timer));
  }

  isClosed(): boolean {
    return this.conn.isClosed();
  }

  destroy(): void {
    this.conn.destroy();
  }
}
