import * as uWS from 'uWebSockets.js';
import { Connection } from '../connection/connection';
import type { Broker } from '../core/broker';
import type { TransportKind } from '../core/types';

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

  get secure(): boolean {
    return false;
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

  /** Set while the socket waits for its backlog to drain before it is ended. */
  private endWhenDrained = false;

  protected endTransport(): void {
    // An ended uWS socket gets only until its next timeout tick (0-4 s) to drain, then what is still
    // buffered is dropped: a backlogged client would lose its DISCONNECT. So end once drained; the
    // connection's closeGraceMs bounds the wait (destroyTransport), as for TCP.
    if (this.ws.getBufferedAmount() > 0) {
      this.endWhenDrained = true;
      return;
    }
    // uWS calls the close handler synchronously from end(): the connection is CLOSED on return.
    this.ws.end(1000);
  }

  /** uWS's drain: some of the backlog went out. */
  onDrain(): void {
    if (this.endWhenDrained && this.ws.getBufferedAmount() === 0) {
      this.endWhenDrained = false;
      this.ws.end(1000);
    }
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
      conn.open();
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
    drain: (ws) => {
      ws.getUserData().conn?.onDrain();
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
