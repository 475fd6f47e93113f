import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection } from '../connection/connection';
import type { Broker } from '../core/broker';
import type { ClientCertificate } from '../core/principal';
import type { TransportKind } from '../core/types';
import { describeClientCertificate } from './client-certificate';
import { type ClientAuthorities, type CertificateSource, secureContextOptions } from './tls';

/** Subprotocols accepted, in preference order: `mqtt` [MQTT-6.0.0-3], and `mqttv3.1` of older clients. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/**
 * MQTT over WebSocket over TLS (`wss`), on node:https + `ws`.
 *
 * Why not uWebSockets.js SSLApp like plain `ws`: its certificate is fixed when
 * the app is built (no API to swap it); listening again on the same port fails
 * while connections to it are open (no SO_REUSEADDR/SO_REUSEPORT in this
 * build), and swapping an SNI context with removeServerName crashes the
 * process when a connection still uses it (all three checked against
 * uWebSockets.js 20.30). node:https takes a new certificate with
 * setSecureContext, without touching live connections.
 */
export class WssConnection extends Connection {
  constructor(
    broker: Broker,
    private readonly ws: WebSocket,
    private readonly address: string,
    private readonly tlsSocket: TLSSocket,
  ) {
    super(broker);
  }

  get secure(): boolean {
    return true;
  }

  get transport(): TransportKind {
    return 'ws';
  }

  protected writeOut(data: Buffer | Buffer[]): void {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    // A WebSocket frame may carry several MQTT packets [MQTT-6.0.0-2]: one frame per batch.
    ws.send(Buffer.isBuffer(data) ? data : Buffer.concat(data), { binary: true });
    // A peer that does not read is a slow consumer, as over TCP.
    this.backlog(ws.bufferedAmount);
  }

  protected endTransport(): void {
    // Close handshake after what is queued; 'close' follows (or closeGraceMs destroys it).
    this.ws.close(1000);
  }

  protected destroyTransport(): void {
    this.ws.terminate();
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  remoteAddress(): string {
    return this.address;
  }

  override clientCertificate(): ClientCertificate | undefined {
    return describeClientCertificate(this.tlsSocket);
  }
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createWssServer(broker: Broker, path: string, certificates: CertificateSource, clientCas: ClientAuthorities): https.Server {
  const limits = broker.limits;
  const server = https.createServer({ ...secureContextOptions(certificates, clientCas), ...clientCas.serverOptions(), handshakeTimeout: limits.connectTimeoutMs }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // A frame may hold more than one packet; a single packet over maxPacketSize is refused by the MQTT layer.
    maxPayload: Math.min(2 * limits.maxPacketSize + 1024, 512 * 1024 * 1024),
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  server.on('upgrade', (req, socket, head) => {
    const url = req.url ?? '';
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim().toLowerCase());
    if (broker.closing) return refuseUpgrade(socket, '503 Service Unavailable');
    if (url.split('?')[0] !== path) return refuseUpgrade(socket, '404 Not Found');
    if (!SUBPROTOCOLS.some((p) => offered.includes(p))) return refuseUpgrade(socket, '400 Bad Request');
    const address = req.socket.remoteAddress ?? '';
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WssConnection(broker, ws, address, req.socket as TLSSocket);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // MQTT control packets travel in binary frames only [MQTT-6.0.0-1].
        if (!isBinary) conn.kick(-1, 'protocol_error', true);
        else conn.onData(data);
      });
      ws.on('error', () => undefined);
      ws.once('close', () => conn.onTransportClosed());
      conn.open();
    });
  });
  server.on('tlsClientError', () => undefined);
  server.on('error', (err) => broker.logger.error({ err }, 'mqtt wss listener error'));
  const unsubscribe = clientCas.follow(server, certificates);
  server.once('close', () => {
    unsubscribe();
    wss.close();
  });
  return server;
}
