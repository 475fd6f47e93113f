import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TrustSnapshot } from '@signet/contracts';
import type { AuthResult, ClientCertificate, ConnectRequest } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import { AuthenticatorChain, type ChainStep, NOT_MINE } from './chain';
import { certificateCredentialId, certificateSerialId, CertificateStep } from './certificate-step';

const ORG = 'org_aaaaaaaaaaaa';
const OTHER = 'org_bbbbbbbbbbbb';
const NOT_AFTER = Date.now() + 60_000;

/** A CA certificate made by openssl now (the step reads the snapshot's PEM with X509Certificate). */
function makeCaPem(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-step-ca-'));
  try {
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], { cwd: dir, stdio: 'ignore' });
    execFileSync('openssl', ['req', '-x509', '-new', '-key', 'ca.key', '-days', '1', '-subj', '/CN=step CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-out', 'ca.crt'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return readFileSync(join(dir, 'ca.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('CertificateStep', () => {
  let caPem: string;
  let caFp: string;
  const revoked = new Set<string>();
  let step: CertificateStep;

  const snapshot = (over: Partial<TrustSnapshot['authorities'][number]> = {}, rule: Partial<TrustSnapshot['rules'][number]> = {}): TrustSnapshot => ({
    version: Math.random().toString(36),
    authorities: [{ id: 'ca_aaaaaaaaaaaa', orgId: ORG, pem: caPem, allowAny: true, registered: [], revokedSerials: [], revokedFingerprints: [], ...over }],
    rules: [{ orgId: ORG, identity: 'cn', publish: ['devices/{cert_cn}/#'], subscribe: [], requirePassword: false, ...rule }],
  });
  const cert = (over: Partial<ClientCertificate> = {}): ClientCertificate => ({
    verified: true,
    subject: 'CN=dev-1',
    commonName: 'dev-1',
    sans: ['URI:spiffe://acme/dev-1', 'email:dev-1@acme.example'],
    serial: '1001',
    fingerprint: 'ab'.repeat(32),
    notAfter: NOT_AFTER,
    issuerFingerprints: [caFp],
    ...over,
  });
  const request = (certificate: ClientCertificate | undefined, username?: string): ConnectRequest => ({
    username,
    password: undefined,
    clientId: 'c1',
    remoteAddress: '127.0.0.1',
    protocolVersion: 5,
    ...(certificate ? { certificate } : {}),
  });
  const refusal = (a: unknown) => (a as AuthResult & { ok: false }).detail;

  beforeAll(() => {
    caPem = makeCaPem();
    caFp = new X509Certificate(caPem).fingerprint256.replace(/:/g, '').toLowerCase();
  });
  beforeEach(() => {
    revoked.clear();
    step = new CertificateStep({ revoked });
    expect(step.load(snapshot())).toBe(true);
  });

  it('maps a verified certificate to its identity and template permissions, and names the org without a username', () => {
    expect(step.orgOf(request(cert()))).toBe(ORG);
    const answer = step.decide(request(cert()), ORG) as AuthResult & { ok: true };
    expect(answer.ok).toBe(true);
    expect(answer.principal).toMatchObject({ kind: 'certificate', orgId: ORG, subject: 'dev-1', credentialId: certificateCredentialId('ab'.repeat(32)) });
    expect(answer.principal.permissions.canPublish('devices/dev-1/t')).toBe(true);
    expect(answer.principal.permissions.canPublish('devices/dev-2/t')).toBe(false);
    expect(step.authorities).toHaveLength(1);
  });

  it('passes without a certificate; refuses an unverified one, a foreign org, a wrong username', () => {
    expect(step.decide(request(undefined), ORG)).toBe(NOT_MINE);
    expect(refusal(step.decide(request(cert({ verified: false, error: 'CERT_HAS_EXPIRED' })), ORG))).toMatch(/CERT_HAS_EXPIRED/);
    expect(refusal(step.decide(request(cert()), OTHER))).toMatch(/not issued by a CA/);
    expect(refusal(step.decide(request(cert({ issuerFingerprints: ['00'.repeat(32)] })), ORG))).toMatch(/not issued by a CA/);
    expect(refusal(step.decide(request(cert(), `dev-2@${ORG}`), ORG))).toMatch(/username/);
    expect((step.decide(request(cert(), `dev-1@${ORG}`), ORG) as AuthResult).ok).toBe(true);
  });

  it('refuses what is revoked: deny list (CA, fingerprint, serial) and the snapshot (serials, fingerprints), and unregistered ones', () => {
    for (const id of ['ca_aaaaaaaaaaaa', certificateCredentialId('ab'.repeat(32)), certificateSerialId('ca_aaaaaaaaaaaa', '1001')]) {
      revoked.add(id);
      expect(refusal(step.decide(request(cert()), ORG))).toMatch(/revoked/);
      revoked.clear();
    }
    step.load(snapshot({ revokedSerials: ['1001'] }));
    expect(refusal(step.decide(request(cert()), ORG))).toMatch(/revoked/);
    step.load(snapshot({ revokedFingerprints: ['ab'.repeat(32)] }));
    expect(refusal(step.decide(request(cert()), ORG))).toMatch(/revoked/);
    step.load(snapshot({ allowAny: false, registered: ['cd'.repeat(32)] }));
    expect(refusal(step.decide(request(cert()), ORG))).toMatch(/not registered/);
    expect((step.decide(request(cert({ fingerprint: 'cd'.repeat(32) })), ORG) as AuthResult).ok).toBe(true);
  });

  it.each([
    ['san_uri', 'spiffe://acme/dev-1'],
    ['san_email', 'dev-1@acme.example'],
    ['fingerprint', 'ab'.repeat(32)],
  ] as const)('names the device by %s', (identity, expected) => {
    step.load(snapshot({}, { identity }));
    expect((step.decide(request(cert()), ORG) as AuthResult & { ok: true }).principal.subject).toBe(expected);
  });

  it('refuses a certificate without the identity the rule asks for', () => {
    step.load(snapshot({}, { identity: 'san_dns' }));
    expect(refusal(step.decide(request(cert()), ORG))).toMatch(/no san_dns/);
  });

  it('expands a CA, serial or certificate revocation to the live sessions it covers', () => {
    step.decide(request(cert()), ORG);
    const session = certificateCredentialId('ab'.repeat(32));
    expect(step.expand(['ca_aaaaaaaaaaaa'])).toEqual(['ca_aaaaaaaaaaaa', session]);
    expect(step.expand([certificateSerialId('ca_aaaaaaaaaaaa', '1001')])).toContain(session);
    expect(step.expand(['ca_other'])).toEqual(['ca_other']);
  });

  it('a bundle that does not parse is left out, not the snapshot', () => {
    const s = snapshot();
    s.authorities.push({ ...s.authorities[0]!, id: 'ca_broken', pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
    step.load(s);
    expect((step.decide(request(cert()), ORG) as AuthResult).ok).toBe(true);
  });

  describe('with certificate and password required', () => {
    const tokenStep = (subject: string): ChainStep => ({
      name: 'token',
      decide: (r) =>
        r.password
          ? { ok: true, principal: { credentialId: 'tok_1', kind: 'token', orgId: ORG, subject, expiresAt: Infinity, permissions: PermissionSet.all() } }
          : NOT_MINE,
    });
    const chainWith = (subject: string) => {
      step.load(snapshot({}, { requirePassword: true }));
      // The org's chain puts the certificate last: it is still asked first.
      return new AuthenticatorChain({ steps: [tokenStep(subject), step], source: { chainFor: async () => ['token', 'client_certificate'] } });
    };
    const withPassword = (c: ClientCertificate | undefined): ConnectRequest => ({ ...request(c, `dev-1@${ORG}`), password: Buffer.from('tkn_x') });

    it('the password credential of the same identity connects, its expiry capped by the certificate', async () => {
      const result = (await chainWith('dev-1').authenticate(withPassword(cert()))) as AuthResult & { ok: true };
      expect(result.ok).toBe(true);
      expect(result.principal.credentialId).toBe('tok_1');
      expect(result.principal.expiresAt).toBe(NOT_AFTER);
      expect(step.expand(['ca_aaaaaaaaaaaa'])).toContain('tok_1');
    });

    it('neither alone, nor a password of another identity', async () => {
      const chain = chainWith('dev-1');
      expect(refusal(await chain.authenticate(withPassword(undefined)))).toMatch(/requires a client certificate/);
      expect(refusal(await chain.authenticate(request(cert(), `dev-1@${ORG}`)))).toMatch(/no step/);
      expect(refusal(await chainWith('dev-2').authenticate(withPassword(cert())))).toMatch(/not the client certificate's identity/);
    });
  });
});
