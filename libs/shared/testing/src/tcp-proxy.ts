import net from 'node:net';

/**
 * A loopback TCP proxy for cutting a client's connection to a real server in
 * tests (e.g. an edge's Redis connection) without touching the server, which
 * other tests share.
 *
 * `cut()` resets every piped connection and refuses (resets) new ones until
 * `restore()`; the listening port stays the same across cuts so the client can
 * reconnect to it.
 *
 * `stall()` keeps every connection open but forwards nothing, either way, and
 * accepts new connections without forwarding on them either: a server that
 * hangs, or a link that stopped delivering. Bytes sent meanwhile wait (TCP
 * backpressure included) and are delivered on `restore()`, as after a network
 * stall, unless their connection was closed in the meantime.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private isCut = false;
  private isStalled = false;
  private boundPort = 0;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
    /** Where the proxy listens; loopback by default. */
    readonly listenHost = '127.0.0.1',
  ) {}

  /** A proxy in front of the host/port of a URL such as `redis://127.0.0.1:6379`. */
  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname || '127.0.0.1', Number(u.port) || defaultPort(u.protocol));
  }

  /** Starts listening on a free port (port 0) and resolves to that port. */
  async start(): Promise<number> {
    if (this.server) return this.boundPort;
    const server = net.createServer((client) => this.onConnection(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A late listen error would otherwise crash the test process.
    server.on('error', () => undefined);
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('TcpProxy: unexpected server address');
    this.boundPort = address.port;
    return this.boundPort;
  }

  get port(): number {
    if (!this.server) throw new Error('TcpProxy not started');
    return this.boundPort;
  }

  /** `url` with its host and port replaced by the proxy's (credentials, db, query kept). */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = this.listenHost;
    u.port = String(this.port);
    return u.toString();
  }

  /** Connections currently piped through (both directions count as one). */
  get connectionCount(): number {
    return Math.floor(this.sockets.size / 2);
  }

  get cutOff(): boolean {
    return this.isCut;
  }

  get stalled(): boolean {
    return this.isStalled;
  }

  /** Stops forwarding on every connection, open or new, until {@link restore}; nothing is closed. */
  stall(): void {
    if (this.isStalled) return;
    this.isStalled = true;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Abruptly drops every piped connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) abort(socket);
    this.sockets.clear();
    this.pairs.clear();
  }

  /** Accepts and pipes new connections again; after a stall, forwards what waited. */
  restore(): void {
    this.isCut = false;
    if (!this.isStalled) return;
    this.isStalled = false;
    for (const pair of this.pairs) pipeBoth(pair);
  }

  /** Drops all connections and stops listening. */
  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    // Errors on a socket we are discarding anyway must not become uncaught.
    client.on('error', () => undefined);
    if (this.isCut) {
      abort(client);
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair = { client, upstream };
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.pairs.add(pair);
    const teardown = (): void => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.pairs.delete(pair);
      // Mirror an abrupt end on one side to the other, like a dropped link would.
      abort(client);
      abort(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    if (this.isStalled) {
      client.pause();
      upstream.pause();
    } else {
      pipeBoth(pair);
    }
  }
}

function pipeBoth({ client, upstream }: { client: net.Socket; upstream: net.Socket }): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

function abort(socket: net.Socket): void {
  if (socket.destroyed) return;
  // A RST rather than a FIN: the peer sees the connection die, not a polite close.
  if (socket.readyState === 'open') socket.resetAndDestroy();
  else socket.destroy();
}

function defaultPort(protocol: string): number {
  switch (protocol) {
    case 'redis:':
    case 'rediss:':
      return 6379;
    case 'postgres:':
    case 'postgresql:':
      return 5432;
    case 'mqtt:':
      return 1883;
    default:
      throw new Error(`TcpProxy.forUrl: no port in URL and no default for ${protocol}`);
  }
}
