import type { AddressInfo, Server } from 'node:net';
import type { SessionDirectory, SessionRecord } from '@signet/mqtt-cluster';
import * as uWS from 'uWebSockets.js';
import { Broker } from './core/broker';
import { RC } from './core/codes';
import { sessionRecord } from './core/session-record';
import type { EdgeOptions, EdgeStats } from './core/types';
import { createTcpServer } from './transports/tcp';
import { CertificateSource, ClientAuthorities, createTlsServer, type TlsFiles } from './transports/tls';
import { createWsApp } from './transports/ws';
import { createWssServer } from './transports/wss';

/**
 * The MQTT edge: an MQTT 3.1.1 / 5.0 broker node that authenticates every
 * CONNECT through the injected authenticator and enforces the principal's
 * permissions on every PUBLISH and SUBSCRIBE, with orgs fully isolated.
 * A plain library: the app wires authenticator, logger, metrics and revocation bus.
 */
export class MqttEdge {
  private readonly broker: Broker;
  private readonly tcpServers: Server[] = [];
  private readonly wsListeners: uWS.us_listen_socket[] = [];
  /** One watched certificate per cert+key pair, shared by the mqtts and wss listeners that use it. */
  private readonly certificates = new Map<string, CertificateSource>();
  /** The CAs client certificates are verified against, shared by every mqtts and wss listener. */
  private readonly clientCas = new ClientAuthorities();
  private closed: Promise<void> | null = null;
  /** Joining the cluster (EdgeOptions.cluster): done once, before the first listener accepts anyone. */
  private joining: Promise<void> | null = null;
  private joined = false;

  /** EdgeOptions.cluster, closed by close() (also when it is alone and the broker holds no link to it). */
  private readonly clusterBus: EdgeOptions['cluster'];

  constructor(options: EdgeOptions) {
    this.broker = new Broker(options);
    this.clusterBus = options.cluster;
  }

  /**
   * Joins the cluster of EdgeOptions.cluster (lease, inbox, the other edges' routes); the first listen does it,
   * so no client connects before this edge knows where to route. Without a cluster, nothing to do.
   */
  start(): Promise<void> {
    const cluster = this.broker.cluster;
    if (cluster === null || this.joined) return Promise.resolve();
    this.joining ??= cluster.bus.start(cluster).then(() => {
      this.joined = true;
    });
    return this.joining;
  }

  /** Listens for MQTT over TCP. Port 0 picks a free port; the bound port is returned. */
  listenTcp(port: number, host?: string): Promise<{ port: number }> {
    if (this.broker.closing) return Promise.reject(new Error('MqttEdge is closed'));
    if (!this.joined && this.broker.cluster !== null) return this.start().then(() => this.listenTcp(port, host));
    return this.listenServer(createTcpServer(this.broker), port, host, 'tcp');
  }

  /**
   * Listens for MQTT over TLS (`mqtts`). The certificate and key are read now
   * (a bad pair rejects) and reloaded when the files change: new handshakes
   * get the new certificate, live connections are not touched.
   */
  listenTls(port: number, host: string | undefined, files: TlsFiles): Promise<{ port: number }> {
    if (this.broker.closing) return Promise.reject(new Error('MqttEdge is closed'));
    if (!this.joined && this.broker.cluster !== null) return this.start().then(() => this.listenTls(port, host, files));
    let server: Server;
    try {
      server = createTlsServer(this.broker, this.certificateSource(files), this.clientCas);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.listenServer(server, port, host, 'tls');
  }

  /** Listens for MQTT over WebSocket over TLS (`wss`) on `path`; certificate handling as {@link listenTls}. */
  listenWebSocketTls(port: number, host: string | undefined, path: string, files: TlsFiles): Promise<{ port: number }> {
    if (this.broker.closing) return Promise.reject(new Error('MqttEdge is closed'));
    if (!this.joined && this.broker.cluster !== null) return this.start().then(() => this.listenWebSocketTls(port, host, path, files));
    let server: Server;
    try {
      server = createWssServer(this.broker, path, this.certificateSource(files), this.clientCas);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.listenServer(server, port, host, 'wss');
  }

  /**
   * Reads the certificate files of the TLS listeners again now, instead of
   * waiting for the next poll. True when a new pair was applied.
   */
  reloadCertificates(): boolean {
    let applied = false;
    for (const source of this.certificates.values()) applied = source.reload() || applied;
    return applied;
  }

  /**
   * The CAs (PEM) mqtts and wss listeners verify client certificates against,
   * applied to new handshakes without restarting a listener; with none they
   * stop asking for client certificates. Throws, keeping the previous set,
   * when OpenSSL cannot load one.
   */
  setClientCertificateAuthorities(pems: readonly string[]): void {
    this.clientCas.set(pems);
  }

  private certificateSource(files: TlsFiles): CertificateSource {
    const key = `${files.certFile}\0${files.keyFile}`;
    let source = this.certificates.get(key);
    if (source === undefined) {
      source = new CertificateSource(files, this.broker.logger);
      this.certificates.set(key, source);
      source.start();
    }
    return source;
  }

  private listenServer(server: Server, port: number, host: string | undefined, kind: string): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      // Until it listens, an error (port taken) is the caller's to report, once; the transport's own
      // 'error' logger is for what happens after, so it is set aside meanwhile.
      const loggers = server.listeners('error') as ((err: Error) => void)[];
      server.removeAllListeners('error');
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        for (const logger of loggers) server.on('error', logger);
        this.tcpServers.push(server);
        this.broker.startSweep();
        const bound = (server.address() as AddressInfo).port;
        this.broker.logger.info({ port: bound, host }, `mqtt edge listening (${kind})`);
        resolve({ port: bound });
      });
    });
  }

  /** Listens for MQTT over WebSocket (binary frames, subprotocol `mqtt`) on `path`. */
  listenWebSocket(port: number, host?: string, path = '/mqtt'): Promise<{ port: number }> {
    if (this.broker.closing) return Promise.reject(new Error('MqttEdge is closed'));
    if (!this.joined && this.broker.cluster !== null) return this.start().then(() => this.listenWebSocket(port, host, path));
    const app = createWsApp(this.broker, path);
    return new Promise((resolve, reject) => {
      const done = (listenSocket: uWS.us_listen_socket | false): void => {
        if (listenSocket === false) {
          reject(new Error(`cannot listen for MQTT over WebSocket on ${host ?? '*'}:${port}`));
          return;
        }
        this.wsListeners.push(listenSocket);
        this.broker.startSweep();
        const bound = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
        this.broker.logger.info({ port: bound, host, path }, 'mqtt edge listening (ws)');
        resolve({ port: bound });
      };
      if (host !== undefined) app.listen(host, port, done);
      else app.listen(port, done);
    });
  }

  /**
   * Closes every live session of these credentials (5.0: DISCONNECT 0x98
   * Administrative action) and drops their session state, offline sessions
   * included (subscriptions, queued messages). Their wills are published
   * only when the credential's `Principal.willOnEnd` is `publish`. A CONNECT with one of them whose
   * authentication is still in flight is refused when it completes.
   * Returns the number of live connections closed.
   */
  revoke(credentialIds: Iterable<string>): number {
    return this.broker.sessions.revoke(credentialIds);
  }

  /**
   * Graceful stop: stops listening; 5.0 clients get DISCONNECT 0x8B; every
   * socket is ended (destroyed after `closeGraceMs` if its peer lingers).
   * Wills are not published, as no one would be left to receive them.
   * In-memory session state, QoS 1/2 messages in flight included, is kept
   * (and lost with the process); in a cluster that stores sessions, persistent ones wait in the store for
   * a resume on any edge. Then the edge leaves the cluster (its routes and client ids go at once).
   * Resolves when all sockets are closed.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    const broker = this.broker;
    broker.closing = true;
    const tcpClosed = this.tcpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const ls of this.wsListeners) uWS.us_listen_socket_close(ls);
    this.wsListeners.length = 0;
    for (const source of this.certificates.values()) source.stop();
    for (const conn of [...broker.connections]) conn.kick(RC.SERVER_SHUTTING_DOWN, 'server_shutdown', false);
    this.closed = (async () => {
      await broker.whenNoConnections();
      await Promise.all(tcpClosed);
      if (this.clusterBus !== undefined) {
        // Waits for a join still in flight, so the bus is not left running after close.
        await this.joining?.catch(() => undefined);
        await this.clusterBus.close();
      }
      broker.stopSweep();
      broker.logger.info({}, 'mqtt edge closed');
    })();
    return this.closed;
  }

  /**
   * This edge's live sessions, read from its memory: the directory of a process whose edge is the only one
   * (the all-in-one without Redis). Edges on Redis register theirs with their claims instead
   * (RedisSessionDirectory reads them across edges).
   */
  readonly sessions: SessionDirectory = {
    list: async (orgId, query) => {
      const edgeId = this.clusterBus?.edgeId ?? 'local';
      const found: SessionRecord[] = [];
      for (const session of this.broker.findOrg(orgId)?.sessions.values() ?? []) {
        const conn = session.connection;
        const principal = conn?.principal;
        if (conn == null || principal == null || !conn.isConnected()) continue;
        if (query.clientId !== undefined && session.clientId !== query.clientId) continue;
        if (query.after !== undefined && session.clientId <= query.after) continue;
        if (query.userId !== undefined && principal.subject !== query.userId) continue;
        found.push(session.record ?? sessionRecord(conn, principal, session.clientId, edgeId, conn.connectedAt));
      }
      found.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
      return { sessions: found.slice(0, query.limit), more: found.length > query.limit };
    },
    kick: async (orgId, clientId) => this.broker.sessions.kick(orgId, clientId),
  };

  stats(): EdgeStats {
    return this.broker.stats();
  }

  /** Runs the shared timer sweep now (tests with an injected clock). */
  sweep(): void {
    this.broker.sweep();
  }
}
