import * as net from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';

/**
 * A minimal MQTT 3.1.1 client for load generation: raw sockets, frames split
 * from the fixed header only, PUBLISH counted (and QoS 1 acknowledged) without
 * decoding. mqtt.js would saturate long before the brokers do.
 */

export type Transport = 'tcp' | 'ws';

export interface ClientOptions {
  transport: Transport;
  port: number;
  host?: string;
  /** WebSocket path, default /mqtt. */
  path?: string;
  username: string;
  password: string;
  clientId: string;
  keepalive?: number;
  timeoutMs?: number;
  /**
   * TCP only: when the server closes, do not close our side in return (no FIN back, no socket teardown)
   * until destroy(). For revoke_10k, where 10,000 closes arrive at once and only the server's FIN is
   * timed: the load generator's own teardown work then happens after the measurement, for every system.
   */
  halfOpen?: boolean;
}

export class ConnackError extends Error {
  constructor(readonly code: number) {
    super(`CONNACK ${code}`);
  }
}

const WS_HIGH_WATER = 1 << 20;

interface Wire {
  write(buf: Buffer): boolean;
  /** Bytes accepted but not yet handed to the kernel. */
  buffered(): number;
  drained(): Promise<void>;
  end(): void;
  destroy(): void;
}

export function encode(packet: mqttPacket.Packet): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: 4 });
}

/** A QoS 0 PUBLISH frame. */
export function publishFrame(topic: string, payload: Buffer, qos: 0 | 1 = 0, messageId = 1): Buffer {
  return encode({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId: qos > 0 ? messageId : undefined });
}

/** Offset of the packet identifier in a QoS > 0 PUBLISH frame (after the fixed header and topic). */
export function messageIdOffset(frame: Buffer): number {
  let i = 1;
  while (frame[i] & 0x80) i++;
  i++;
  return i + 2 + frame.readUInt16BE(i);
}

const DISCONNECT = Buffer.from([0xe0, 0x00]);
const PINGREQ = Buffer.from([0xc0, 0x00]);

export class RawClient {
  /** PUBLISH packets received. */
  received = 0;
  /** Called for each PUBLISH frame received (a view valid only during the call). */
  onPublish: ((frame: Buffer) => void) | null = null;
  /** Called for each PUBACK received. */
  onPuback: ((messageId: number) => void) | null = null;
  /** Called after each received chunk has been handled. */
  onChunk: (() => void) | null = null;
  readonly closed: Promise<void>;
  /** Resolves when the server has closed its side (FIN or reset seen), before this side finishes closing. */
  readonly ended: Promise<void>;
  isClosed = false;

  private wire!: Wire;
  private rest: Buffer | null = null;
  private connack: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private subacks = new Map<number, { resolve: (granted: number[]) => void }>();
  private nextSubId = 1;
  private resolveClosed!: () => void;
  private resolveEnded!: () => void;

  private constructor() {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Connects and completes CONNECT/CONNACK; rejects with ConnackError on a refusal. */
  static connect(options: ClientOptions): Promise<RawClient> {
    const client = new RawClient();
    return client.open(options).then(() => client);
  }

  private open(o: ClientOptions): Promise<void> {
    const host = o.host ?? '127.0.0.1';
    const timeoutMs = o.timeoutMs ?? 20000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.destroy();
        reject(new Error(`connect timeout (${o.transport}:${o.port})`));
      }, timeoutMs);
      this.connack = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const connect = encode({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: o.clientId,
        keepalive: o.keepalive ?? 600,
        username: o.username,
        password: Buffer.from(o.password),
      });
      if (o.transport === 'tcp') this.openTcp(host, o.port, connect, o.halfOpen === true);
      else this.openWs(`ws://${host}:${o.port}${o.path ?? '/mqtt'}`, connect);
    });
  }

  private openTcp(host: string, port: number, connect: Buffer, halfOpen: boolean): void {
    const socket = net.connect({ host, port, noDelay: true, allowHalfOpen: halfOpen });
    let drainWaiters: (() => void)[] = [];
    socket.on('drain', () => {
      const w = drainWaiters;
      drainWaiters = [];
      for (const f of w) f();
    });
    this.wire = {
      write: (buf) => socket.write(buf),
      buffered: () => socket.writableLength,
      drained: () => (socket.writableNeedDrain ? new Promise((r) => drainWaiters.push(r)) : Promise.resolve()),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    };
    socket.on('connect', () => socket.write(connect));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.resolveEnded();
      // Half-open: a server that closes before CONNACK still fails the connect at once.
      if (halfOpen && this.connack !== null) socket.destroy();
    });
    socket.on('error', () => this.resolveEnded());
    socket.on('close', () => {
      for (const f of drainWaiters) f();
      drainWaiters = [];
      this.onClose();
    });
  }

  private openWs(url: string, connect: Buffer): void {
    const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    this.wire = {
      write: (buf) => {
        if (ws.readyState !== WebSocket.OPEN) return true;
        ws.send(buf, { binary: true });
        return ws.bufferedAmount < WS_HIGH_WATER;
      },
      buffered: () => ws.bufferedAmount,
      drained: async () => {
        while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount >= WS_HIGH_WATER / 2) {
          await new Promise((r) => setTimeout(r, 1));
        }
      },
      end: () => ws.close(),
      destroy: () => ws.terminate(),
    };
    ws.on('open', () => ws.send(connect, { binary: true }));
    ws.on('message', (data: Buffer) => this.onData(data));
    ws.on('error', () => undefined);
    ws.on('close', () => this.onClose());
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.resolveEnded();
    if (this.connack !== null) this.connack.reject(new Error('closed before CONNACK'));
    this.connack = null;
    this.resolveClosed();
  }

  /** Writes bytes; false when the transport wants the writer to wait for drained(). */
  send(buf: Buffer): boolean {
    return this.wire.write(buf);
  }

  drained(): Promise<void> {
    return this.wire.drained();
  }

  /** Bytes written but still queued in this process. */
  bufferedBytes(): number {
    return this.wire.buffered();
  }

  subscribe(filter: string, qos: 0 | 1 = 0): Promise<number[]> {
    const messageId = this.nextSubId++;
    const done = new Promise<number[]>((resolve) => this.subacks.set(messageId, { resolve }));
    this.send(encode({ cmd: 'subscribe', messageId, subscriptions: [{ topic: filter, qos }] }));
    return done.then((granted) => {
      if (granted.some((g) => g >= 0x80)) throw new Error(`subscription to ${filter} refused`);
      return granted;
    });
  }

  ping(): void {
    this.send(PINGREQ);
  }

  /** DISCONNECT, then close. */
  disconnect(): void {
    if (this.isClosed) return;
    this.send(DISCONNECT);
    this.wire.end();
  }

  destroy(): void {
    this.wire?.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const len = buf.length;
    let off = 0;
    let acks: number[] | null = null;
    while (off < len) {
      let value = 0;
      let mul = 1;
      let i = off + 1;
      let done = false;
      for (; i < len && i < off + 5; i++) {
        const b = buf[i];
        value += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          done = true;
          i++;
          break;
        }
      }
      if (!done || i + value > len) break;
      const type = buf[off] >> 4;
      if (type === 3) {
        this.received++;
        if ((buf[off] & 0x06) !== 0) {
          const topicLen = buf.readUInt16BE(i);
          (acks ??= []).push(buf.readUInt16BE(i + 2 + topicLen));
        }
        if (this.onPublish !== null) this.onPublish(buf.subarray(off, i + value));
      } else if (type === 4) {
        if (this.onPuback !== null) this.onPuback(buf.readUInt16BE(i));
      } else if (type === 2) {
        const code = buf[i + 1];
        const waiter = this.connack;
        this.connack = null;
        if (waiter !== null) {
          if (code === 0) waiter.resolve();
          else waiter.reject(new ConnackError(code));
        }
      } else if (type === 9) {
        const id = buf.readUInt16BE(i);
        const granted: number[] = [];
        for (let g = i + 2; g < i + value; g++) granted.push(buf[g]);
        this.subacks.get(id)?.resolve(granted);
        this.subacks.delete(id);
      }
      off = i + value;
    }
    if (off < len) this.rest = Buffer.from(buf.subarray(off));
    if (acks !== null) {
      const out = Buffer.allocUnsafe(acks.length * 4);
      for (let k = 0; k < acks.length; k++) {
        out[k * 4] = 0x40;
        out[k * 4 + 1] = 2;
        out.writeUInt16BE(acks[k], k * 4 + 2);
      }
      this.send(out);
    }
    if (this.onChunk !== null) this.onChunk();
  }
}

/**
 * Opens `count` connections with at most `concurrency` handshakes in flight.
 * `options(i)` gives the options of connection i.
 */
export async function connectMany(
  count: number,
  concurrency: number,
  options: (i: number) => ClientOptions,
): Promise<RawClient[]> {
  const clients: RawClient[] = new Array<RawClient>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      clients[i] = await RawClient.connect(options(i));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (err) {
    for (const c of clients) c?.destroy();
    throw err;
  }
  return clients;
}

/** Closes clients and waits until their sockets are closed. */
export async function closeAll(clients: RawClient[]): Promise<void> {
  for (const c of clients) c.destroy();
  await Promise.all(clients.map((c) => c.closed));
}
