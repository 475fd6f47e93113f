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
 * MQTT over TLS (`mqtts`, default port 8883) with node:tls. A certificate
 * change applies to new handshakes through server.setSecureContext; sessions
 * already established keep the certificate they were opened with.
 */
export function createTlsServer(broker: Broker, certificates: CertificateSource): tls.Server {
  const server = tls.createServer({
    ...certificates.current,
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
  const unsubscribe = certificates.onChange((pair) => server.setSecureContext(pair));
  server.once('close', unsubscribe);
  return server;
}
