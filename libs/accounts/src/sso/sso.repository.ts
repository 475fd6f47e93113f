import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, SECRET_BOX, type SecretBox, sqlState } from '@signet/persistence';

import type { Account } from '../account';

/** An org's OpenID Provider for its people's sign-in, the client secret opened. */
export interface SsoConnection {
  id: string;
  orgId: string;
  /** Shown on the sign-in page: "Sign in with <name>". */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Lower-case e-mail domains whose people may sign in. */
  allowedDomains: string[];
  /** The role of an account made at a first sign-in; null: existing accounts only. */
  defaultRole: 'admin' | 'viewer' | null;
  /** Link an existing account whose username is the person's verified e-mail, at their first sign-in. */
  linkByEmail: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type SsoConnectionWrite = Omit<SsoConnection, 'orgId' | 'createdAt' | 'updatedAt'>;

/** The SQL of `sso_connections` and `sso_identities`. */
export interface SsoRepository {
  findByOrg(orgId: string): Promise<SsoConnection | null>;
  findById(id: string): Promise<SsoConnection | null>;
  /** Every connection's id and name, for the sign-in page. */
  listForSignIn(): Promise<Array<{ id: string; name: string }>>;
  /** Creates or replaces the org's connection (keeping its id and links when it exists); null when the org does not exist. */
  save(orgId: string, connection: SsoConnectionWrite): Promise<SsoConnection | null>;
  delete(orgId: string): Promise<boolean>;
  /** The account linked to the IdP's subject. */
  linkedAccountId(connectionId: string, subject: string): Promise<string | null>;
  link(connectionId: string, subject: string, accountId: string): Promise<void>;
  /** In one transaction, a new account (no password) linked to the subject; 'taken' when the username is. */
  createLinked(connectionId: string, subject: string, account: Omit<Account, 'createdAt' | 'passwordHash'>): Promise<'created' | 'taken'>;
}

export const SSO_REPOSITORY = Symbol('SSO_REPOSITORY');

const FOREIGN_KEY_VIOLATION = '23503';
const UNIQUE_VIOLATION = '23505';

interface Row {
  id: string;
  org_id: string;
  name: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  allowed_domains: string[];
  default_role: 'admin' | 'viewer' | null;
  link_by_email: boolean;
  created_at: Date;
  updated_at: Date;
}

// The org id is the sealing context: a sealed secret copied to another org's row does not open.
const context = (orgId: string): string => `sso_connection:${orgId}`;

@Injectable()
export class TypeOrmSsoRepository implements SsoRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async findByOrg(orgId: string): Promise<SsoConnection | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM sso_connections WHERE org_id = $1`, [orgId])) as Row[];
    return rows[0] ? this.fromRow(rows[0]) : null;
  }

  async findById(id: string): Promise<SsoConnection | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM sso_connections WHERE id = $1`, [id])) as Row[];
    return rows[0] ? this.fromRow(rows[0]) : null;
  }

  async listForSignIn(): Promise<Array<{ id: string; name: string }>> {
    return (await this.dataSource.query(`SELECT id, name FROM sso_connections ORDER BY name, id`)) as Array<{ id: string; name: string }>;
  }

  async save(orgId: string, c: SsoConnectionWrite): Promise<SsoConnection | null> {
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO sso_connections (id, org_id, name, issuer, client_id, client_secret_sealed, allowed_domains, default_role, link_by_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id) DO UPDATE SET name = EXCLUDED.name, issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id,
           client_secret_sealed = EXCLUDED.client_secret_sealed, allowed_domains = EXCLUDED.allowed_domains,
           default_role = EXCLUDED.default_role, link_by_email = EXCLUDED.link_by_email, updated_at = now()
         RETURNING *`,
        [c.id, orgId, c.name, c.issuer, c.clientId, this.box.seal(c.clientSecret, context(orgId)), c.allowedDomains, c.defaultRole, c.linkByEmail],
      )) as Row[];
      return this.fromRow(rows[0]!);
    } catch (err) {
      if (sqlState(err) === FOREIGN_KEY_VIOLATION) return null;
      throw err;
    }
  }

  async delete(orgId: string): Promise<boolean> {
    const [rows] = (await this.dataSource.query(`DELETE FROM sso_connections WHERE org_id = $1 RETURNING id`, [orgId])) as [unknown[], number];
    return rows.length > 0;
  }

  async linkedAccountId(connectionId: string, subject: string): Promise<string | null> {
    const rows = (await this.dataSource.query(`SELECT account_id FROM sso_identities WHERE connection_id = $1 AND subject = $2`, [connectionId, subject])) as Array<{ account_id: string }>;
    return rows[0]?.account_id ?? null;
  }

  async link(connectionId: string, subject: string, accountId: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO sso_identities (connection_id, subject, account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [connectionId, subject, accountId]);
  }

  async createLinked(connectionId: string, subject: string, a: Omit<Account, 'createdAt' | 'passwordHash'>): Promise<'created' | 'taken'> {
    try {
      await this.dataSource.transaction(async (em) => {
        await em.query(`INSERT INTO accounts (id, org_id, username, password_hash, role) VALUES ($1, $2, $3, NULL, $4)`, [a.id, a.orgId, a.username, a.role]);
        await em.query(`INSERT INTO sso_identities (connection_id, subject, account_id) VALUES ($1, $2, $3)`, [connectionId, subject, a.id]);
      });
      return 'created';
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) return 'taken';
      throw err;
    }
  }

  private fromRow(r: Row): SsoConnection {
    return {
      id: r.id,
      orgId: r.org_id,
      name: r.name,
      issuer: r.issuer,
      clientId: r.client_id,
      clientSecret: this.box.open(r.client_secret_sealed, context(r.org_id)),
      allowedDomains: r.allowed_domains,
      defaultRole: r.default_role,
      linkByEmail: r.link_by_email,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}
