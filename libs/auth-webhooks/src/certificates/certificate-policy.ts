import { X509Certificate } from 'node:crypto';

import { CERTIFICATE_IDENTITY_SOURCES } from '@signet/contracts';
import { splitPem } from '@signet/mqtt-auth';
import { CERTIFICATE_PLACEHOLDERS, templateProblem } from '@signet/permissions';

import { normalizeSerial } from './crl';

/** A bundle is a CA and its intermediates, not a trust store dump. */
export const MAX_BUNDLE_CERTIFICATES = 10;
export const MAX_PEM_BYTES = 64 * 1024;
const MAX_TEMPLATES = 64;

/** A CA's display name: 1 to 200 characters, none of them control characters (PostgreSQL text holds no NUL). */
export function caNameProblem(name: string): string | null {
  // eslint-disable-next-line no-control-regex
  return name.length === 0 || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name) ? 'name: 1 to 200 characters, no control characters' : null;
}

export const fingerprintOf = (cert: X509Certificate): string => cert.fingerprint256.replace(/:/g, '').toLowerCase();

export interface CaBundle {
  certificates: X509Certificate[];
  /** The bundle's first certificate. */
  fingerprint: string;
  subject: string;
  /** The earliest expiry in the bundle: after it, nothing it issued verifies. */
  notAfter: Date;
  pem: string;
}

/** Reads a CA bundle (PEM); a string saying what is wrong when it is not one. */
export function parseCaBundle(pem: string, now: number): CaBundle | string {
  if (Buffer.byteLength(pem) > MAX_PEM_BYTES) return `pem is larger than ${MAX_PEM_BYTES} bytes`;
  const blocks = splitPem(pem);
  if (blocks.length === 0) return 'pem holds no -----BEGIN CERTIFICATE----- block';
  if (blocks.length > MAX_BUNDLE_CERTIFICATES) return `a bundle holds at most ${MAX_BUNDLE_CERTIFICATES} certificates`;
  const certificates: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      return `certificate ${i + 1} of the bundle does not parse`;
    }
    if (!cert.ca) return `certificate ${i + 1} of the bundle is not a CA (basicConstraints CA:TRUE)`;
    if (Date.parse(cert.validTo) <= now) return `certificate ${i + 1} of the bundle has expired`;
    certificates.push(cert);
  }
  const first = certificates[0]!;
  return {
    certificates,
    fingerprint: fingerprintOf(first),
    subject: first.subject.replace(/\n/g, ', '),
    notAfter: new Date(Math.min(...certificates.map((c) => Date.parse(c.validTo)))),
    pem: certificates.map((c) => c.toString()).join(''),
  };
}

export interface ClientCertificateFacts {
  fingerprint: string;
  serial: string;
  subject: string;
  notAfter: Date;
}

/** Reads a client certificate and checks that the bundle issued it (issuer name and signature). */
export function parseIssuedCertificate(pem: string, bundle: CaBundle): ClientCertificateFacts | string {
  const blocks = splitPem(pem);
  if (blocks.length !== 1) return 'pem must hold exactly one certificate';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]!);
  } catch {
    return 'the certificate does not parse';
  }
  if (!bundle.certificates.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return 'the certificate was not issued by this CA';
  return { fingerprint: fingerprintOf(cert), serial: normalizeSerial(cert.serialNumber), subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) };
}

/** Serials as hex (`1A2B`, `1a:2b`, `0x1a2b`); fingerprints as SHA-256 hex (colons allowed). Null when not one. */
export function normalizeRevocationSerial(serial: string): string | null {
  const hex = serial.trim().replace(/^0x/i, '').replace(/:/g, '');
  return /^[0-9a-fA-F]{1,40}$/.test(hex) ? normalizeSerial(hex) : null;
}

export function normalizeFingerprint(fingerprint: string): string | null {
  const hex = fingerprint.trim().replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** Null when the org's certificate rule is acceptable; otherwise what is wrong. */
export function certificateRuleProblem(rule: { identity: string; publish: string[]; subscribe: string[] }): string | null {
  if (!(CERTIFICATE_IDENTITY_SOURCES as readonly string[]).includes(rule.identity)) {
    return `identity must be one of ${CERTIFICATE_IDENTITY_SOURCES.join(', ')}`;
  }
  for (const [name, list] of [
    ['publish', rule.publish],
    ['subscribe', rule.subscribe],
  ] as const) {
    if (list.length > MAX_TEMPLATES) return `${name}: at most ${MAX_TEMPLATES} templates`;
    for (const t of list) {
      const problem = templateProblem(t, CERTIFICATE_PLACEHOLDERS);
      if (problem) return `${name} "${t}": ${problem}`;
    }
  }
  return null;
}
