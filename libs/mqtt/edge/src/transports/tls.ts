import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import * as tls from 'node:tls';
import type { Broker } from '../core/broker';
import type { EdgeLogger } from '../core/types';
import { acceptTcpSocket } from './tcp';

/** A PEM certificate chain and private key on disk, for the `mqtts` and `wss` listeners. */
export interface TlsFiles {
  /** PEM certificate, leaf first then intermediates. */
  certFile: string;
  /** PEM private key of the leaf certificate (unencrypted). */
  keyFile: string;
  /** How often the two files are checked for a change, ms (default 2000). */
  watchIntervalMs?: number;
}

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
}

/**
 * The current certificate and key, reloaded when either file changes. Files
 * are polled (fs.watchFile) rather than watched with inotify: certificate
 * renewers (certbot, cert-manager secret mounts) replace files by rename or
 * symlink swap, which an inotify watch on the old inode would miss.
 *
 * A pair that does not load (the cert written but not yet its key, a half
 * written file) is not applied: the previous pair stays in use and the next
 * change is tried again, so a renewal never leaves the listener without a
 * certificate.
 */
export class CertificateSource {
  private pair: CertificatePair;
  private readonly listeners = new Set<(pair: CertificatePair) => void>();
  private watching = false;
  private readonly onFileChange = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) this.reload();
  };

  constructor(
    readonly files: TlsFiles,
    private readonly logger: EdgeLogger,
  ) {
    // At start a bad pair is an error for the operator, not something to wait out.
    this.pair = CertificateSource.load(files);
  }

  get current(): CertificatePair {
    return this.pair;
  }

  /** Calls `listener` with each newly loaded pair. */
  onChange(listener: (pair: CertificatePair) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.watching) return;
    this.watching = true;
    const interval = this.files.watchIntervalMs ?? 2000;
    // persistent: false — the watch alone must not keep the process alive.
    watchFile(this.files.certFile, { interval, persistent: false }, this.onFileChange);
    watchFile(this.files.keyFile, { interval, persistent: false }, this.onFileChange);
  }

  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    unwatchFile(this.files.certFile, this.onFileChange);
    unwatchFile(this.files.keyFile, this.onFileChange);
  }

  /** Reads the files again; applies and announces the pair when it loads and differs. True when applied. */
  reload(): boolean {
    let next: CertificatePair;
    try {
      next = CertificateSource.load(this.files);
    } catch (err) {
      this.logger.warn(
        { err, certFile: this.files.certFile, keyFile: this.files.keyFile },
        'mqtt edge TLS certificate not reloaded (keeping the current one)',
      );
      return false;
    }
    if (next.cert.equals(this.pair.cert) && next.key.equals(this.pair.key)) return false;
    this.pair = next;
    this.logger.info({ certFile: this.files.certFile }, 'mqtt edge TLS certificate reloaded');
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (err) {
        this.logger.error({ err }, 'mqtt edge TLS certificate listener failed');
      }
    }
    return true;
  }

  /** Reads and validates a pair: createSecureContext fails on a bad PEM or a key that does not match the cert. */
  static load(files: TlsFiles): CertificatePair {
    const pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    tls.createSecureContext(pair);
    return pair;
  }
}

/**
 * The CAs client certificates are verified against (every org's, together),
 * shared by the mqtts and wss listeners. While there is none, listeners do
 * not ask for a client certificate; once there is one they ask, without
 * requiring it (a client with a password still connects), and the handshake
 * succeeds whatever OpenSSL thinks of the certificate: its verdict travels
 * with the CONNECT, so a refusal is a CONNACK with a reason code rather than
 * a TLS alert the client cannot explain.
 */
export class ClientAuthorities {
  private pems: readonly string[] = [];
  private readonly listeners = new Set<() => void>();

  get current(): readonly string[] {
    return this.pems;
  }

  /** Applies to new handshakes on every listener; established connections keep theirs. */
  set(pems: readonly string[]): void {
    if (pems.length === this.pems.length && pems.every((p, i) => p === this.pems[i])) return;
    // createSecureContext fails on a PEM OpenSSL cannot load: the old set stays rather than a broken one.
    if (pems.length > 0) tls.createSecureContext({ ca: [...pems] });
    this.pems = [...pems];
    for (const l of this.listeners) l();
  }

  serverOptions(): tls.TlsOptions {
    return { requestCert: this.pems.length > 0, rejectUnauthorized: false };
  }

  /** Keeps `server` on the current certificate and CAs; returns the unsubscribe. */
  follow(server: tls.Server, certificates: CertificateSource): () => void {
    const apply = (): void => {
      server.setSecureContext(secureContextOptions(certificates, this));
      // Read by node:tls for each new connection (tls.Server's own field, not in its typings).
      (server as unknown as { requestCert: boolean }).requestCert = this.pems.length > 0;
    };
    this.listeners.add(apply);
    const unsubscribe = certificates.onChange(apply);
    return () => {
      unsubscribe();
      this.listeners.delete(apply);
    };
  }
}

export function secureContextOptions(certificates: CertificateSource, clientCas: ClientAuthorities): tls.SecureContextOptions {
  const cas = clientCas.current;
  return { ...certificates.current, ...(cas.length > 0 ? { ca: [...cas] } : {}) };
}

/**
 * MQTT over TLS (`mqtts`, default port 8883) with node:tls. A certificate
 * change applies to new handshakes through server.setSecureContext; sessions
 * already established keep the certificate they were opened with.
 */
export function createTlsServer(broker: Broker, certificates: CertificateSource, clientCas: ClientAuthorities): tls.Server {
  const server = tls.createServer({
    ...secureContextOptions(certificates, clientCas),
    ...clientCas.serverOptions(),
    // The TLS handshake counts against the same budget as CONNECT itself.
    handshakeTimeout: broker.limits.connectTimeoutMs,
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.setNoDelay(true);
    acceptTcpSocket(broker, socket);
  });
  // Failed handshakes (scanners, clients that do not trust the certificate) are routine: no noise.
  server.on('tlsClientError', () => undefined);
  server.on('error', (err) => broker.logger.error({ err }, 'mqtt tls listener error'));
  const unsubscribe = clientCas.follow(server, certificates);
  server.once('close', unsubscribe);
  return server;
}
