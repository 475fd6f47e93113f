import { X509Certificate } from 'node:crypto';

import { makeClientCa, type ClientCa } from '../testing/client-pki';
import { CrlError, parseCrl } from './crl';

describe('parseCrl (a CRL made by openssl ca)', () => {
  let ca: ClientCa;
  let other: ClientCa;

  beforeAll(() => {
    ca = makeClientCa('crl');
    other = makeClientCa('crl-other');
  });
  afterAll(() => {
    ca?.cleanup();
    other?.cleanup();
  });

  it('reads the revoked serials in the form the edge compares, the update times, and checks the signature', () => {
    const kept = ca.issue('kept', { cn: 'kept' });
    const gone = ca.issue('gone', { cn: 'gone' });
    ca.revoke(gone);
    const crl = parseCrl(ca.crl());
    expect(crl.serials).toEqual([gone.serial.replace(/^0+/, '')]);
    expect(crl.serials).not.toContain(kept.serial);
    expect(new X509Certificate(gone.pem).serialNumber.replace(/^0+/, '')).toBe(crl.serials[0]);
    expect(crl.thisUpdate.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(crl.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    expect(crl.signedBy(new X509Certificate(ca.pem).publicKey)).toBe(true);
    expect(crl.signedBy(new X509Certificate(other.pem).publicKey)).toBe(false);
  });

  it('an empty CRL lists nothing', () => {
    expect(parseCrl(other.crl()).serials).toEqual([]);
  });

  it.each([
    ['not PEM', 'hello'],
    ['a certificate, not a CRL', '-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----'],
    ['garbage in the armour', '-----BEGIN X509 CRL-----\nAAAAAAAAAAAAAAAAAAAA\n-----END X509 CRL-----'],
  ])('refuses %s with a CrlError', (_what, pem) => {
    expect(() => parseCrl(pem)).toThrow(CrlError);
  });

  it('refuses a tampered CRL by its signature', () => {
    const pem = ca.crl();
    const body = pem.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
    const der = Buffer.from(body, 'base64');
    // A byte of thisUpdate's digits flipped: still parses, no longer verifies.
    const at = der.indexOf(Buffer.from('Z', 'latin1')) - 1;
    der[at] = der[at] === 0x30 ? 0x31 : 0x30;
    const tampered = `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
    expect(parseCrl(tampered).signedBy(new X509Certificate(ca.pem).publicKey)).toBe(false);
  });
});
