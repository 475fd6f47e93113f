import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { ClientCertificate } from '../core/principal';

/** `AB:CD:…` → `abcd…`. */
const hex = (fingerprint: string): string => fingerprint.replace(/:/g, '').toLowerCase();

/**
 * The certificate a TLS client presented, with OpenSSL's verdict; undefined
 * when it presented none. Read once per CONNECT, never per packet.
 */
export function describeClientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  if (!peer || !('fingerprint256' in peer) || !peer.fingerprint256) return undefined;
  const issuers: string[] = [];
  // Node completes the chain from the listener's trust store; a self-signed certificate is its own issuer.
  for (let c: DetailedPeerCertificate | undefined = peer.issuerCertificate; c?.fingerprint256 && issuers.length < 8; c = c.issuerCertificate) {
    const fp = hex(c.fingerprint256);
    if (issuers.includes(fp)) break;
    issuers.push(fp);
    if (c.issuerCertificate === c) break;
  }
  const subjectFields = (peer.subject ?? {}) as unknown as Record<string, string | string[]>;
  const subject = Object.entries(subjectFields)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
    .join(', ');
  const cn = subjectFields['CN'];
  const authorizationError = socket.authorizationError as Error | string | null | undefined;
  return {
    verified: socket.authorized,
    ...(socket.authorized ? {} : { error: String((authorizationError as { code?: string } | null)?.code ?? authorizationError ?? 'not verified') }),
    subject,
    ...(cn !== undefined ? { commonName: Array.isArray(cn) ? cn[0]! : cn } : {}),
    sans: peer.subjectaltname ? peer.subjectaltname.split(', ').filter((s) => s.length > 0) : [],
    // Compared with serials from the API and CRLs in this one form: upper-case hex, no leading zeros.
    serial: (peer.serialNumber ?? '').toUpperCase().replace(/^0+(?=.)/, ''),
    fingerprint: hex(peer.fingerprint256),
    notAfter: Date.parse(peer.valid_to),
    issuerFingerprints: issuers,
  };
}
