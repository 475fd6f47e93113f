import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { CertificateIdentitySource, CertificateRule, TrustedAuthority } from '@signet/contracts';
import { DATA_SOURCE, inTransaction, type KeysetPosition } from '@signet/persistence';

export interface StoredCa {
  id: string;
  orgId: string;
  name: string;
  pem: string;
  fingerprint: string;
  subject: string;
  notAfter: Date;
  allowAny: boolean;
  crlSerials: string[];
  crlThisUpdate: Date | null;
  crlNextUpdate: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredClientCertificate {
  id: string;
  caId: string;
  fingerprint: string | null;
  serial: string | null;
  subject: string | null;
  notAfter: Date | null;
  status: 'registered' | 'revoked';
  revokedAt: Date | null;
  createdAt: Date;
}

export type CaWrite = Pick<StoredCa, 'id' | 'orgId' | 'name' | 'pem' | 'fingerprint' | 'subject' | 'notAfter' | 'allowAny'>;

/** The writes of one change, in one transaction (RevocationPublisher records with `manager`). */
export interface CertificateTransaction {
  manager: EntityManager;
  /** The CA of the org, locked for this transaction. */
  lockCa(orgId: string, caId: string): Promise<StoredCa | null>;
  deleteCa(caId: string): Promise<void>;
  updateCa(caId: string, change: { name?: string; allowAny?: boolean }): Promise<StoredCa>;
  saveCrl(caId: string, crl: { pem: string; serials: string[]; thisUpdate: Date; nextUpdate: Date | null }): Promise<StoredCa>;
  /** Registers a certificate; null when this fingerprint is already known to the CA. */
  register(cert: Omit<StoredClientCertificate, 'status' | 'revokedAt' | 'createdAt'>): Promise<StoredClientCertificate | null>;
  /** Marks the CA's certificates with this serial or fingerprint revoked; records one when none is known. */
  revoke(caId: string, orgId: string, by: { serial?: string; fingerprint?: string }, newId: string): Promise<StoredClientCertificate[]>;
}

/** The SQL of `certificate_authorities`, `client_certificates` and `certificate_rules`. */
export interface CertificateRepository {
  /** Null when the org does not exist; 'exists' when the org has this CA already. */
  insertCa(ca: CaWrite): Promise<StoredCa | null | 'exists'>;
  findCa(orgId: string, caId: string): Promise<StoredCa | null>;
  listCas(orgId: string, take: number, after: KeysetPosition | null): Promise<StoredCa[]>;
  listCertificates(caId: string, take: number, after: KeysetPosition | null): Promise<StoredClientCertificate[]>;
  findRule(orgId: string): Promise<CertificateRule | null>;
  /** Null when the org does not exist. */
  saveRule(rule: CertificateRule): Promise<CertificateRule | null>;
  transaction<T>(work: (tx: CertificateTransaction) => Promise<T>): Promise<T>;
  /** Every org's CAs with their certificates' status, and every rule: what edges are given. */
  trust(): Promise<{ authorities: TrustedAuthority[]; rules: CertificateRule[] }>;
}

export const CERTIFICATE_REPOSITORY = Symbol('CERTIFICATE_REPOSITORY');

interface CaRow {
  id: string;
  org_id: string;
  name: string;
  pem: string;
  fingerprint: string;
  subject: string;
  not_after: Date;
  allow_any: boolean;
  crl_serials: string[];
  crl_this_update: Date | null;
  crl_next_update: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface CertRow {
  id: string;
  ca_id: string;
  fingerprint: string | null;
  serial: string | null;
  subject: string | null;
  not_after: Date | null;
  status: 'registered' | 'revoked';
  revoked_at: Date | null;
  created_at: Date;
}

interface RuleRow {
  org_id: string;
  identity: CertificateIdentitySource;
  publish: string[];
  subscribe: string[];
  require_password: boolean;
}

/** `ca_` + 12 base36 characters; anything else names no CA (and never reaches SQL: a NUL byte would fail there). */
export const CA_ID_PATTERN = /^ca_[0-9a-z]{12}$/;

const CA_COLUMNS = `id, org_id, name, pem, fingerprint, subject, not_after, allow_any, crl_serials, crl_this_update, crl_next_update, created_at, updated_at`;
const isCode = (err: unknown, code: string) => (err as { code?: string }).code === code;

const toCa = (r: CaRow): StoredCa => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  pem: r.pem,
  fingerprint: r.fingerprint,
  subject: r.subject,
  notAfter: r.not_after,
  allowAny: r.allow_any,
  crlSerials: r.crl_serials,
  crlThisUpdate: r.crl_this_update,
  crlNextUpdate: r.crl_next_update,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toCert = (r: CertRow): StoredClientCertificate => ({
  id: r.id,
  caId: r.ca_id,
  fingerprint: r.fingerprint,
  serial: r.serial,
  subject: r.subject,
  notAfter: r.not_after,
  status: r.status,
  revokedAt: r.revoked_at,
  createdAt: r.created_at,
});

const toRule = (r: RuleRow): CertificateRule => ({
  orgId: r.org_id,
  identity: r.identity,
  publish: r.publish,
  subscribe: r.subscribe,
  requirePassword: r.require_password,
});

@Injectable()
export class TypeOrmCertificateRepository implements CertificateRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertCa(ca: CaWrite): Promise<StoredCa | null | 'exists'> {
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO certificate_authorities (id, org_id, name, pem, fingerprint, subject, not_after, allow_any)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${CA_COLUMNS}`,
        [ca.id, ca.orgId, ca.name, ca.pem, ca.fingerprint, ca.subject, ca.notAfter, ca.allowAny],
      )) as CaRow[];
      return toCa(rows[0]!);
    } catch (err) {
      if (isCode(err, '23503')) return null;
      if (isCode(err, '23505')) return 'exists';
      throw err;
    }
  }

  async findCa(orgId: string, caId: string): Promise<StoredCa | null> {
    if (!CA_ID_PATTERN.test(caId)) return null;
    const rows = (await this.dataSource.query(`SELECT ${CA_COLUMNS} FROM certificate_authorities WHERE org_id = $1 AND id = $2`, [orgId, caId])) as CaRow[];
    return rows[0] ? toCa(rows[0]) : null;
  }

  async listCas(orgId: string, take: number, after: KeysetPosition | null): Promise<StoredCa[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${CA_COLUMNS} FROM certificate_authorities
        WHERE org_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [orgId, after?.at ?? null, after?.id ?? '', take],
    )) as CaRow[];
    return rows.map(toCa);
  }

  async listCertificates(caId: string, take: number, after: KeysetPosition | null): Promise<StoredClientCertificate[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM client_certificates
        WHERE ca_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [caId, after?.at ?? null, after?.id ?? '', take],
    )) as CertRow[];
    return rows.map(toCert);
  }

  async findRule(orgId: string): Promise<CertificateRule | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM certificate_rules WHERE org_id = $1`, [orgId])) as RuleRow[];
    return rows[0] ? toRule(rows[0]) : null;
  }

  async saveRule(rule: CertificateRule): Promise<CertificateRule | null> {
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO certificate_rules (org_id, identity, publish, subscribe, require_password) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id) DO UPDATE SET identity = EXCLUDED.identity, publish = EXCLUDED.publish, subscribe = EXCLUDED.subscribe,
           require_password = EXCLUDED.require_password, updated_at = now()
         RETURNING *`,
        [rule.orgId, rule.identity, rule.publish, rule.subscribe, rule.requirePassword],
      )) as RuleRow[];
      return toRule(rows[0]!);
    } catch (err) {
      if (isCode(err, '23503')) return null;
      throw err;
    }
  }

  transaction<T>(work: (tx: CertificateTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work(new TypeOrmCertificateTransaction(manager)));
  }

  async trust(): Promise<{ authorities: TrustedAuthority[]; rules: CertificateRule[] }> {
    const [cas, certs, rules] = await Promise.all([
      this.dataSource.query(`SELECT id, org_id, pem, allow_any, crl_serials FROM certificate_authorities ORDER BY id`) as Promise<CaRow[]>,
      this.dataSource.query(`SELECT ca_id, fingerprint, serial, status FROM client_certificates ORDER BY id`) as Promise<CertRow[]>,
      this.dataSource.query(`SELECT * FROM certificate_rules ORDER BY org_id`) as Promise<RuleRow[]>,
    ]);
    const byCa = new Map<string, TrustedAuthority>();
    for (const r of cas) {
      byCa.set(r.id, { id: r.id, orgId: r.org_id, pem: r.pem, allowAny: r.allow_any, registered: [], revokedSerials: [...r.crl_serials], revokedFingerprints: [] });
    }
    for (const c of certs) {
      const ca = byCa.get(c.ca_id);
      if (!ca) continue;
      if (c.status === 'registered') {
        if (c.fingerprint) ca.registered.push(c.fingerprint);
      } else {
        if (c.serial) ca.revokedSerials.push(c.serial);
        if (c.fingerprint) ca.revokedFingerprints.push(c.fingerprint);
      }
    }
    return { authorities: [...byCa.values()], rules: rules.map(toRule) };
  }
}

class TypeOrmCertificateTransaction implements CertificateTransaction {
  constructor(readonly manager: EntityManager) {}

  async lockCa(orgId: string, caId: string): Promise<StoredCa | null> {
    if (!CA_ID_PATTERN.test(caId)) return null;
    const rows = (await this.manager.query(`SELECT ${CA_COLUMNS} FROM certificate_authorities WHERE org_id = $1 AND id = $2 FOR UPDATE`, [orgId, caId])) as CaRow[];
    return rows[0] ? toCa(rows[0]) : null;
  }

  async deleteCa(caId: string): Promise<void> {
    await this.manager.query(`DELETE FROM certificate_authorities WHERE id = $1`, [caId]);
  }

  async updateCa(caId: string, change: { name?: string; allowAny?: boolean }): Promise<StoredCa> {
    const rows = (await this.manager.query(
      `UPDATE certificate_authorities SET name = COALESCE($2, name), allow_any = COALESCE($3, allow_any), updated_at = now()
        WHERE id = $1 RETURNING ${CA_COLUMNS}`,
      [caId, change.name ?? null, change.allowAny ?? null],
    )) as [CaRow[], number];
    return toCa(rows[0][0]!);
  }

  async saveCrl(caId: string, crl: { pem: string; serials: string[]; thisUpdate: Date; nextUpdate: Date | null }): Promise<StoredCa> {
    const rows = (await this.manager.query(
      `UPDATE certificate_authorities SET crl_pem = $2, crl_serials = $3, crl_this_update = $4, crl_next_update = $5, updated_at = now()
        WHERE id = $1 RETURNING ${CA_COLUMNS}`,
      [caId, crl.pem, crl.serials, crl.thisUpdate, crl.nextUpdate],
    )) as [CaRow[], number];
    return toCa(rows[0][0]!);
  }

  async register(cert: Omit<StoredClientCertificate, 'status' | 'revokedAt' | 'createdAt'>): Promise<StoredClientCertificate | null> {
    const known = (await this.manager.query(`SELECT 1 FROM client_certificates WHERE ca_id = $1 AND fingerprint = $2`, [cert.caId, cert.fingerprint])) as unknown[];
    if (known.length > 0) return null;
    const rows = (await this.manager.query(
      `INSERT INTO client_certificates (id, ca_id, org_id, fingerprint, serial, subject, not_after, status)
       SELECT $1, id, org_id, $3, $4, $5, $6, 'registered' FROM certificate_authorities WHERE id = $2 RETURNING *`,
      [cert.id, cert.caId, cert.fingerprint, cert.serial, cert.subject, cert.notAfter],
    )) as CertRow[];
    return toCert(rows[0]!);
  }

  async revoke(caId: string, orgId: string, by: { serial?: string; fingerprint?: string }, newId: string): Promise<StoredClientCertificate[]> {
    const [column, value] = by.serial !== undefined ? ['serial', by.serial] : ['fingerprint', by.fingerprint!];
    const updated = (await this.manager.query(
      `UPDATE client_certificates SET status = 'revoked', revoked_at = COALESCE(revoked_at, now())
        WHERE ca_id = $1 AND ${column} = $2 RETURNING *`,
      [caId, value],
    )) as [CertRow[], number];
    if (updated[0].length > 0) return updated[0].map(toCert);
    const rows = (await this.manager.query(
      `INSERT INTO client_certificates (id, ca_id, org_id, ${column}, status, revoked_at) VALUES ($1, $2, $3, $4, 'revoked', now()) RETURNING *`,
      [newId, caId, orgId, value],
    )) as CertRow[];
    return rows.map(toCert);
  }
}
