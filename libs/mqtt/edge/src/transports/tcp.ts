import * as net from 'node:net';
import { TLSSocket } from 'node:tls';
import { Connection } from '../connection/connection';
import type { Broker } from '../core/broker';
import type { ClientCertificate } from '../core/principal';
import type { TransportKind } from '../core/types';
import { describeClientCertificate } from './client-certificate';

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

  get secure(): boolean {
    return (this.socket as Partial<TLSSocket>).encrypted === true;
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

  override clientCertificate(): ClientCertificate | undefined {
    return this.socket instanceof TLSSocket ? describeClientCertificate(this.socket) : undefined;
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
  conn.open();
}

export function createTcpServer(broker: Broker): net.Server {
  const server = net.createServer({ noDelay: true }, (socket: net.Socket) => acceptTcpSocket(broker, socket));
  server.on('error', (err) => broker.logger.error({ err }, 'mqtt tcp listener error'));
  return server;
}
