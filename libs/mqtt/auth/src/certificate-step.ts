import { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';

import type { CertificateRule, TrustedAuthority, TrustSnapshot } from '@signet/contracts';
import { parseMqttUsername } from '@signet/credentials';
import type { AuthResult, ClientCertificate, ConnectRequest, Principal } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import { type ChainStep, NOT_MINE, type PassWithCheck, type StepAnswer } from './chain';

/** What a revocation names to close one certificate's sessions, whichever CA issued it. */
export const certificateCredentialId = (fingerprint: string): string => `crt:${fingerprint.toLowerCase()}`;
/** What a revocation by serial names: serials are unique per issuing CA only. (A CA's own id names all it issued.) */
export const certificateSerialId = (caId: string, serial: string): string => `crs:${caId}:${serial.toUpperCase()}`;

/** An org without a rule of its own. */
export const DEFAULT_CERTIFICATE_RULE: Omit<CertificateRule, 'orgId'> = Object.freeze({
  identity: 'cn',
  publish: ['devices/{user_id}/#'],
  subscribe: ['devices/{user_id}/#'],
  requirePassword: false,
});

interface Authority {
  ca: TrustedAuthority;
  registered: ReadonlySet<string>;
  revokedSerials: ReadonlySet<string>;
  revokedFingerprints: ReadonlySet<string>;
}

/** Identities are the user part of MQTT usernames (split on the last '@') and fill topic levels: bounded, printable. */
const MAX_IDENTITY = 256;
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f]/;

export interface CertificateStepOptions {
  /** The edge's deny list: CA ids, `crt:` and `crs:` ids revoked on the bus. */
  revoked: { has(credentialId: string): boolean };
  /** Sessions remembered for closing by CA or serial (least recently connected go first). */
  liveSize?: number;
}

/**
 * The client-certificate step. The TLS layer has verified the chain against
 * every org's CAs together (ClientCertificate.verified); this step finds which
 * org's CA it was, applies that CA's status (revoked serials and
 * fingerprints, CRL, registered certificates), and maps the certificate to an
 * identity and permissions by the org's rule. Everything it reads is in
 * memory (the trust snapshot pushed to the edge): no lookup per CONNECT.
 *
 * Sessions are closed through the one revocation path: a revocation names a
 * certificate (`crt:<sha256>`), a serial (`crs:<ca>:<serial>`) or a CA id,
 * and {@link expand} turns those into the credential ids of the live sessions
 * they cover (for certificate-and-password sessions, the password's).
 */
export class CertificateStep implements ChainStep {
  readonly name = 'client_certificate' as const;
  readonly local = true;
  private byIssuer = new Map<string, Authority[]>();
  private rules = new Map<string, CertificateRule>();
  private orgsWithCa = new Set<string>();
  private pems: string[] = [];
  private version = '';
  /** Session credential id → the revocation ids that cover it; `covering` is the inverse. */
  private readonly live: LRUCache<string, string[]>;
  private readonly covering = new Map<string, Set<string>>();

  constructor(private readonly options: CertificateStepOptions) {
    this.live = new LRUCache({
      max: options.liveSize ?? 100_000,
      dispose: (keys, sessionId) => {
        for (const k of keys) {
          const set = this.covering.get(k);
          set?.delete(sessionId);
          if (set?.size === 0) this.covering.delete(k);
        }
      },
    });
  }

  /** The CAs' certificates (PEM, each once) the TLS listeners verify against. */
  get authorities(): readonly string[] {
    return this.pems;
  }

  get snapshotVersion(): string {
    return this.version;
  }

  /**
   * Takes a new snapshot. A bundle that does not parse is left out (its
   * certificates then connect no one), never the whole snapshot. True when it changed.
   */
  load(snapshot: TrustSnapshot): boolean {
    if (snapshot.version === this.version && this.version !== '') return false;
    const byIssuer = new Map<string, Authority[]>();
    const pems = new Set<string>();
    const orgs = new Set<string>();
    for (const ca of snapshot.authorities) {
      let certs: X509Certificate[];
      try {
        certs = splitPem(ca.pem).map((p) => new X509Certificate(p));
      } catch {
        continue;
      }
      const authority: Authority = {
        ca,
        registered: new Set(ca.registered.map((f) => f.toLowerCase())),
        revokedSerials: new Set(ca.revokedSerials.map((s) => s.toUpperCase())),
        revokedFingerprints: new Set(ca.revokedFingerprints.map((f) => f.toLowerCase())),
      };
      for (const cert of certs) {
        const fp = cert.fingerprint256.replace(/:/g, '').toLowerCase();
        const list = byIssuer.get(fp) ?? [];
        list.push(authority);
        byIssuer.set(fp, list);
        pems.add(cert.toString());
      }
      orgs.add(ca.orgId);
    }
    this.byIssuer = byIssuer;
    this.pems = [...pems];
    this.orgsWithCa = orgs;
    this.rules = new Map(snapshot.rules.map((r) => [r.orgId, r]));
    this.version = snapshot.version;
    return true;
  }

  /** The org whose CA verified the certificate, when exactly one org's did (no username to say which). */
  orgOf(request: ConnectRequest): string | null {
    const cert = request.certificate;
    if (!cert?.verified) return null;
    const orgs = new Set(this.authoritiesOf(cert, null).map((a) => a.ca.orgId));
    return orgs.size === 1 ? [...orgs][0]! : null;
  }

  /** An org that requires certificate and password has its certificate checked before any password step. */
  first(orgId: string | null): boolean {
    return orgId !== null && this.orgsWithCa.has(orgId) && (this.rules.get(orgId)?.requirePassword ?? false);
  }

  decide(request: ConnectRequest, orgId: string | null): StepAnswer {
    const cert = request.certificate;
    const requirePassword = this.first(orgId);
    if (!cert) return requirePassword ? deny('this org requires a client certificate') : NOT_MINE;
    if (!cert.verified) return deny(`client certificate not verified (${cert.error ?? 'unknown'})`);
    const authority = this.authoritiesOf(cert, orgId)[0];
    if (!authority || orgId === null) return deny("client certificate not issued by a CA of the username's org");
    const { ca } = authority;
    const serialId = certificateSerialId(ca.id, cert.serial);
    const certId = certificateCredentialId(cert.fingerprint);
    const { revoked } = this.options;
    if (
      revoked.has(ca.id) ||
      revoked.has(certId) ||
      revoked.has(serialId) ||
      authority.revokedSerials.has(cert.serial) ||
      authority.revokedFingerprints.has(cert.fingerprint)
    ) {
      return deny('client certificate revoked');
    }
    if (!ca.allowAny && !authority.registered.has(cert.fingerprint)) return deny('client certificate not registered with its CA');
    const rule = this.rules.get(orgId) ?? { ...DEFAULT_CERTIFICATE_RULE, orgId };
    const identity = identityOf(cert, rule);
    if (identity === null) return deny(`client certificate has no ${rule.identity} to name the device`);
    if (request.username) {
      const named = parseMqttUsername(request.username);
      if (!named || named.subject !== identity) return deny("username does not match the client certificate's identity");
    }
    const covers = [ca.id, certId, serialId];
    if (rule.requirePassword) return this.withPassword(orgId, identity, cert, covers);
    const principal: Principal = {
      credentialId: certId,
      kind: 'certificate',
      orgId,
      subject: identity,
      expiresAt: cert.notAfter,
      permissions: PermissionSet.fromTemplates(rule, {
        user_id: identity,
        org_id: orgId,
        client_id: request.clientId,
        ...(cert.commonName !== undefined ? { cert_cn: cert.commonName } : {}),
      }),
    };
    this.remember(certId, covers);
    return { ok: true, principal };
  }

  /**
   * Live session credential ids that `credentialIds` (certificates, serials,
   * CAs) cover, with the ids themselves, for closing sessions.
   */
  expand(credentialIds: readonly string[]): string[] {
    const out = new Set(credentialIds);
    for (const id of credentialIds) for (const sessionId of this.covering.get(id) ?? []) out.add(sessionId);
    return [...out];
  }

  /** The password steps decide; their principal must be the certificate's identity in the same org. */
  private withPassword(orgId: string, identity: string, cert: ClientCertificate, covers: string[]): PassWithCheck {
    return {
      check: (result: AuthResult): AuthResult => {
        if (!result.ok) return result;
        const p = result.principal;
        if (p.orgId !== orgId || p.subject !== identity) return deny("the password's credential is not the client certificate's identity");
        this.remember(p.credentialId, covers);
        return { ok: true, principal: { ...p, expiresAt: Math.min(p.expiresAt, cert.notAfter) } };
      },
    };
  }

  private authoritiesOf(cert: ClientCertificate, orgId: string | null): Authority[] {
    for (const fp of cert.issuerFingerprints) {
      const found = this.byIssuer.get(fp);
      if (found) return orgId === null ? found : found.filter((a) => a.ca.orgId === orgId);
    }
    return [];
  }

  private remember(sessionId: string, covers: string[]): void {
    this.live.set(sessionId, covers);
    for (const k of covers) {
      let set = this.covering.get(k);
      if (!set) this.covering.set(k, (set = new Set()));
      set.add(sessionId);
    }
  }
}

const deny = (detail: string): AuthResult => ({ ok: false, reason: 'bad_credentials', detail });

function identityOf(cert: ClientCertificate, rule: CertificateRule): string | null {
  let value: string | undefined;
  switch (rule.identity) {
    case 'cn':
      value = cert.commonName;
      break;
    case 'fingerprint':
      value = cert.fingerprint;
      break;
    default: {
      const prefix = { san_uri: 'URI:', san_dns: 'DNS:', san_email: 'email:' }[rule.identity];
      value = cert.sans.find((s) => s.startsWith(prefix))?.slice(prefix.length);
    }
  }
  if (value === undefined || value.length === 0 || value.length > MAX_IDENTITY || UNPRINTABLE.test(value)) return null;
  return value;
}

/** The certificates of a PEM bundle, each as its own PEM block. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
