import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { WebhookFailMode } from '@signet/contracts';
import { DATA_SOURCE, inTransaction, SECRET_BOX, type SecretBox } from '@signet/persistence';

/** An org's webhook with its secrets opened (only the service sees them). */
export interface StoredWebhook {
  orgId: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  /** ms epoch after which the previous secret no longer signs. */
  previousSecretUntil: number | null;
  sendPassword: boolean;
  failMode: WebhookFailMode;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookWrite = Pick<StoredWebhook, 'url' | 'secret' | 'previousSecret' | 'previousSecretUntil' | 'sendPassword' | 'failMode'>;

/** The SQL of `auth_webhooks` and `authenticator_chains`. */
export interface AuthWebhookRepository {
  find(orgId: string): Promise<StoredWebhook | null>;
  /** Creates or replaces the org's webhook; null when the org does not exist. */
  save(orgId: string, webhook: WebhookWrite): Promise<StoredWebhook | null>;
  /** False when there was none. */
  delete(orgId: string): Promise<boolean>;
  findChain(orgId: string): Promise<string[] | null>;
  /** Null when the org does not exist. */
  saveChain(orgId: string, steps: string[]): Promise<string[] | null>;
  deleteChain(orgId: string): Promise<void>;
  /** One transaction; its manager is what RevocationPublisher records with. */
  transaction<T>(work: (tx: { manager: EntityManager }) => Promise<T>): Promise<T>;
}

export const AUTH_WEBHOOK_REPOSITORY = Symbol('AUTH_WEBHOOK_REPOSITORY');

const FOREIGN_KEY_VIOLATION = '23503';
const isFkViolation = (err: unknown) => (err as { code?: string }).code === FOREIGN_KEY_VIOLATION;

interface Row {
  org_id: string;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_until: Date | null;
  send_password: boolean;
  fail_mode: WebhookFailMode;
  created_at: Date;
  updated_at: Date;
}

@Injectable()
export class TypeOrmAuthWebhookRepository implements AuthWebhookRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async find(orgId: string): Promise<StoredWebhook | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM auth_webhooks WHERE org_id = $1`, [orgId])) as Row[];
    return rows[0] ? this.fromRow(rows[0]) : null;
  }

  async save(orgId: string, w: WebhookWrite): Promise<StoredWebhook | null> {
    // The org id is the sealing context: a sealed secret copied to another org's row does not open.
    const context = `auth_webhook:${orgId}`;
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO auth_webhooks (org_id, url, secret_sealed, previous_secret_sealed, previous_secret_until, send_password, fail_mode)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id) DO UPDATE SET url = EXCLUDED.url, secret_sealed = EXCLUDED.secret_sealed,
           previous_secret_sealed = EXCLUDED.previous_secret_sealed, previous_secret_until = EXCLUDED.previous_secret_until,
           send_password = EXCLUDED.send_password, fail_mode = EXCLUDED.fail_mode, updated_at = now()
         RETURNING *`,
        [
          orgId,
          w.url,
          this.box.seal(w.secret, context),
          w.previousSecret === null ? null : this.box.seal(w.previousSecret, context),
          w.previousSecretUntil === null ? null : new Date(w.previousSecretUntil),
          w.sendPassword,
          w.failMode,
        ],
      )) as Row[];
      return this.fromRow(rows[0]!);
    } catch (err) {
      if (isFkViolation(err)) return null;
      throw err;
    }
  }

  async delete(orgId: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected], not the rows.
    const [rows] = (await this.dataSource.query(`DELETE FROM auth_webhooks WHERE org_id = $1 RETURNING org_id`, [orgId])) as [unknown[], number];
    return rows.length > 0;
  }

  async findChain(orgId: string): Promise<string[] | null> {
    const rows = (await this.dataSource.query(`SELECT steps FROM authenticator_chains WHERE org_id = $1`, [orgId])) as { steps: string[] }[];
    return rows[0]?.steps ?? null;
  }

  async saveChain(orgId: string, steps: string[]): Promise<string[] | null> {
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO authenticator_chains (org_id, steps) VALUES ($1, $2)
         ON CONFLICT (org_id) DO UPDATE SET steps = EXCLUDED.steps, updated_at = now() RETURNING steps`,
        [orgId, steps],
      )) as { steps: string[] }[];
      return rows[0]!.steps;
    } catch (err) {
      if (isFkViolation(err)) return null;
      throw err;
    }
  }

  async deleteChain(orgId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM authenticator_chains WHERE org_id = $1`, [orgId]);
  }

  transaction<T>(work: (tx: { manager: EntityManager }) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work({ manager }));
  }

  private fromRow(r: Row): StoredWebhook {
    const context = `auth_webhook:${r.org_id}`;
    return {
      orgId: r.org_id,
      url: r.url,
      secret: this.box.open(r.secret_sealed, context),
      previousSecret: r.previous_secret_sealed === null ? null : this.box.open(r.previous_secret_sealed, context),
      previousSecretUntil: r.previous_secret_until === null ? null : r.previous_secret_until.getTime(),
      sendPassword: r.send_password,
      failMode: r.fail_mode,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}
