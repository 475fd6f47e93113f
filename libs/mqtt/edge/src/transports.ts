import * as net from 'node:net';
import * as uWS from 'uWebSockets.js';
import type { Broker } from './broker';
import { Connection } from './connection';
import type { TransportKind } from './types';

const CONNECTION = Symbol('signet.mqtt.connection');
type TaggedSocket = net.Socket & { [CONNECTION]?: TcpConnection };

/**
 * MQTT over node:net. Socket events use shared handler functions and find
 * their connection through a symbol on the socket, instead of binding three
 * closures per connection.
 */
export class TcpConnection extends Connection {
  constructor(
    broker: Broker,
    private readonly socket: net.Socket,
  ) {
    super(broker);
  }

  get transport(): TransportKind {
    return 'tcp';
  }

  protected writeOut(data: Buffer | Buffer[]): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (Buffer.isBuffer(data)) {
      socket.write(data);
    } else {
      // One writev for the batch.
      socket.cork();
      for (const b of data) socket.write(b);
      socket.uncork();
    }
    // A peer that does not read is a slow consumer: disconnected after a grace period, or beyond a hard cap.
    this.backlog(socket.writableLength);
  }

  protected endTransport(nothingWritten: boolean): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (nothingWritten && socket.writableLength === 0) {
      // Nothing left to deliver: close now (FIN) rather than shutdown, then wait for the peer's FIN.
      // Half the syscalls and event-loop turns per socket, which counts when a revocation closes thousands.
      socket.destroy();
      return;
    }
    // Flushes what was written (DISCONNECT, CONNACK), then FIN; destroyed after closeGraceMs if the peer lingers.
    socket.end();
  }

  protected destroyTransport(): void {
    this.socket.destroy();
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }
}

function onSocketData(this: TaggedSocket, chunk: Buffer): void {
  this[CONNECTION]?.onData(chunk);
}

function onSocketClose(this: TaggedSocket): void {
  const conn = this[CONNECTION];
  if (conn === undefined) return;
  this[CONNECTION] = undefined;
  conn.onTransportClosed();
}

function onSocketError(this: TaggedSocket): void {
  // 'close' follows every 'error'; the error itself (ECONNRESET, EPIPE) is routine for MQTT clients.
}

/** Takes an accepted byte stream (a net.Socket, or a tls.TLSSocket after its handshake) as an MQTT connection. */
export function acceptTcpSocket(broker: Broker, socket: net.Socket): void {
  if (broker.closing) {
    socket.destroy();
    return;
  }
  const tagged = socket as TaggedSocket;
  const conn = new TcpConnection(broker, socket);
  tagged[CONNECTION] = conn;
  socket.on('data', onSocketData);
  socket.on('error', onSocketError);
  socket.on('close', onSocketClose);
  broker.register(conn);
}

export function createTcpServer(broker: Broker): net.Server {
  const server = net.createServer({ noDelay: true }, (socket: net.Socket) => acceptTcpSocket(broker, socket));
  server.on('error', (err) => broker.logger.error({ err }, 'mqtt tcp listener error'));
  return server;
}

interface WsUserData {
  conn: WsConnection | null;
}

/** MQTT over WebSocket (uWebSockets.js), binary frames, subprotocol `mqtt` (MQTT §6). */
export class WsConnection extends Connection {
  constructor(
    broker: Broker,
    private readonly ws: uWS.WebSocket<WsUserData>,
  ) {
    super(broker);
  }

  get transport(): TransportKind {
    return 'ws';
  }

  protected writeOut(data: Buffer | Buffer[]): void {
    // A WebSocket frame may carry several MQTT packets [MQTT-6.0.0-2]: one frame per batch.
    const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
    // 0: sent in part, the rest buffered (the socket is open); 2: dropped, uWS closes the socket itself.
    if (this.ws.send(buf, true, false) === 0) this.backlog(this.ws.getBufferedAmount());
  }

  protected endTransport(): void {
    // uWS calls the close handler synchronously from end(): the connection is CLOSED on return.
    this.ws.end(1000);
  }

  protected destroyTransport(): void {
    this.ws.close();
  }

  bufferedBytes(): number {
    return this.ws.getBufferedAmount();
  }

  remoteAddress(): string {
    return Buffer.from(this.ws.getRemoteAddressAsText()).toString();
  }
}

/** Subprotocols accepted, in preference order: `mqtt` [MQTT-6.0.0-3], and `mqttv3.1` of older clients. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

export function createWsApp(broker: Broker, path: string): uWS.TemplatedApp {
  const app = uWS.App();
  const limits = broker.limits;
  app.ws<WsUserData>(path, {
    compression: uWS.DISABLED,
    // A frame may hold more than one packet; a single packet over maxPacketSize is refused by the
    // MQTT layer (5.0: DISCONNECT 0x95). Frames beyond this are cut by uWS itself.
    maxPayloadLength: Math.min(2 * limits.maxPacketSize + 1024, 512 * 1024 * 1024),
    // Slow consumers are disconnected above slowConsumerMaxBytes (with DISCONNECT); this is the last resort.
    maxBackpressure: 2 * limits.slowConsumerMaxBytes,
    // A socket whose backlog exceeds maxBackpressure is closed, not silently skipped (that would lose acks).
    closeOnBackpressureLimit: 1,
    // Keepalive is MQTT's own (shared sweep); uWS's idle timer would cut keepalive-0 clients.
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      const offered = req
        .getHeader('sec-websocket-protocol')
        .split(',')
        .map((p) => p.trim().toLowerCase());
      const protocol = SUBPROTOCOLS.find((p) => offered.includes(p));
      if (protocol === undefined || broker.closing) {
        res.writeStatus(broker.closing ? '503 Service Unavailable' : '400 Bad Request').end('MQTT WebSocket subprotocol required');
        return;
      }
      res.upgrade<WsUserData>(
        { conn: null },
        req.getHeader('sec-websocket-key'),
        protocol,
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const conn = new WsConnection(broker, ws);
      ws.getUserData().conn = conn;
      broker.register(conn);
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn;
      if (conn === null) return;
      if (!isBinary) {
        // MQTT control packets travel in binary frames only [MQTT-6.0.0-1].
        conn.kick(-1, 'protocol_error', true);
        return;
      }
      // uWS neuters the ArrayBuffer when this handler returns, and decoded payloads are views: copy.
      const chunk = Buffer.allocUnsafe(message.byteLength);
      chunk.set(new Uint8Array(message));
      conn.onData(chunk);
    },
    close: (ws) => {
      const data = ws.getUserData();
      const conn = data.conn;
      if (conn === null) return;
      data.conn = null;
      conn.onTransportClosed();
    },
  });
  return app;
}
