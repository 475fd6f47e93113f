import { verify as verifySignature, type KeyObject } from 'node:crypto';

/**
 * A certificate revocation list (RFC 5280 §5), read with a small DER reader:
 * node:crypto verifies signatures but does not parse CRLs, and no ASN.1
 * library is a dependency. Only what Signet uses is read: the revoked
 * serials, the update times, and the bytes the signature covers.
 */
export interface ParsedCrl {
  /** Upper-case hex, no leading zeros. */
  serials: string[];
  thisUpdate: Date;
  nextUpdate: Date | null;
  pem: string;
  /** Verifies the CRL's signature with a CA's public key. */
  signedBy(key: KeyObject): boolean;
}

export class CrlError extends Error {}

interface Tlv {
  tag: number;
  /** Start of the whole element and of its value. */
  start: number;
  valueStart: number;
  end: number;
}

function readTlv(der: Buffer, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new CrlError('truncated DER');
  const tag = der[at]!;
  let len = der[at + 1]!;
  let valueStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || valueStart + n > limit) throw new CrlError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[valueStart + i]!;
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw new CrlError('truncated DER');
  return { tag, start: at, valueStart, end };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const BIT_STRING = 0x03;
const OID = 0x06;

function readTime(der: Buffer, t: Tlv): Date {
  const s = der.subarray(t.valueStart, t.end).toString('latin1');
  const m = (t.tag === UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/).exec(s);
  if (!m) throw new CrlError('bad time');
  let year = Number(m[1]);
  // RFC 5280 §4.1.2.5.1: UTCTime years 50-99 are 19xx.
  if (t.tag === UTC_TIME) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** Upper-case hex without leading zeros: the form serials are compared in everywhere. */
export const normalizeSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** Signature algorithms by OID (DER value, hex): the digest node:crypto.verify takes (null for Ed25519). */
const ALGORITHMS: Record<string, string | null> = {
  '2a864886f70d01010b': 'sha256',
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040302': 'sha256',
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
  '2b6570': null,
};

const PEM_RE = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/;

/** Parses a PEM CRL; throws CrlError saying what is wrong. */
export function parseCrl(pem: string): ParsedCrl {
  const m = PEM_RE.exec(pem);
  if (!m) throw new CrlError('not a PEM CRL (-----BEGIN X509 CRL-----)');
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const top = readTlv(der, 0, der.length);
  if (top.tag !== SEQUENCE || top.end !== der.length) throw new CrlError('not a DER CertificateList');
  const [tbs, sigAlg, sig] = children(der, top);
  if (!tbs || tbs.tag !== SEQUENCE || !sigAlg || sigAlg.tag !== SEQUENCE || !sig || sig.tag !== BIT_STRING) throw new CrlError('not a CertificateList');
  const oid = children(der, sigAlg)[0];
  if (!oid || oid.tag !== OID) throw new CrlError('no signature algorithm');
  const oidHex = der.subarray(oid.valueStart, oid.end).toString('hex');
  if (!(oidHex in ALGORITHMS)) throw new CrlError('unsupported signature algorithm');
  const digest = ALGORITHMS[oidHex]!;
  const fields = children(der, tbs);
  let i = 0;
  if (fields[i]?.tag === INTEGER) i++; // version
  if (fields[i]?.tag !== SEQUENCE) throw new CrlError('no signature field');
  i++;
  if (fields[i]?.tag !== SEQUENCE) throw new CrlError('no issuer');
  i++;
  const isTime = (t: Tlv | undefined) => t !== undefined && (t.tag === UTC_TIME || t.tag === GENERALIZED_TIME);
  if (!isTime(fields[i])) throw new CrlError('no thisUpdate');
  const thisUpdate = readTime(der, fields[i++]!);
  const nextUpdate = isTime(fields[i]) ? readTime(der, fields[i++]!) : null;
  const serials: string[] = [];
  if (fields[i]?.tag === SEQUENCE) {
    for (const entry of children(der, fields[i]!)) {
      const serial = children(der, entry)[0];
      if (!serial || serial.tag !== INTEGER) throw new CrlError('bad revoked entry');
      serials.push(normalizeSerial(der.subarray(serial.valueStart, serial.end).toString('hex')));
    }
  }
  const signedBytes = der.subarray(tbs.start, tbs.end);
  // The BIT STRING's first byte counts unused bits (0 for signatures).
  const signature = der.subarray(sig.valueStart + 1, sig.end);
  return {
    serials,
    thisUpdate,
    nextUpdate,
    pem: `-----BEGIN X509 CRL-----${m[1]}-----END X509 CRL-----\n`,
    signedBy: (key) => {
      try {
        return verifySignature(digest, signedBytes, key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, signature);
      } catch {
        return false;
      }
    },
  };
}
