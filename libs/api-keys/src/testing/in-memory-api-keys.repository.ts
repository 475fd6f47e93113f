import type { KeysetPosition } from '@signet/persistence';

import type {
  ApiKeysRepository,
  ApiKeysTransaction,
  NewApiKey,
  StoredApiKey,
  VerifiableApiKey,
} from '../api-keys.repository';
import type { KeyRevocationRecorder } from '../key-revocation-recorder';

interface Row extends StoredApiKey {
  keyHash: string;
  expiryEnforcedAt: Date | null;
}

const copy = (row: Row): Row => ({ ...row, scopes: [...row.scopes], ipAllowlist: [...row.ipAllowlist] });

/**
 * {@link ApiKeysRepository} in memory, for unit specs of the use cases. A
 * transaction works on a copy that replaces the rows only when it resolves,
 * so a refused rotation or revocation leaves nothing behind, as in PostgreSQL.
 */
export class InMemoryApiKeysRepository implements ApiKeysRepository {
  rows = new Map<string, Row>();
  orgs = new Map<string, string>();
  /** Settings rows: org id → will policy. */
  willPolicies = new Map<string, 'publish' | 'suppress'>();
  private clock = 0;

  async transaction<T>(work: (tx: ApiKeysTransaction) => Promise<T>): Promise<T> {
    const draft = new InMemoryApiKeysRepository();
    draft.rows = new Map([...this.rows].map(([id, row]) => [id, copy(row)]));
    draft.orgs = new Map(this.orgs);
    draft.clock = this.clock;
    const result = await work(draft.asTransaction());
    this.rows = draft.rows;
    this.orgs = draft.orgs;
    this.clock = draft.clock;
    return result;
  }

  async insert(key: NewApiKey): Promise<void> {
    if (this.rows.has(key.id)) throw new Error(`duplicate key id ${key.id}`);
    // Distinct, increasing creation times keep the keyset order deterministic.
    const createdAt = new Date(Date.now() + this.clock++);
    this.rows.set(key.id, { ...key, createdAt, lastUsedAt: null, revokedAt: null, replacedBy: null, expiryEnforcedAt: null });
  }

  async findById(id: string): Promise<StoredApiKey | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async findInOrg(orgId: string, id: string): Promise<StoredApiKey | null> {
    const row = this.rows.get(id);
    return row && row.orgId === orgId ? copy(row) : null;
  }

  async listInOrg(orgId: string, take: number, after: KeysetPosition | null): Promise<StoredApiKey[]> {
    const newestFirst = (a: Row, b: Row) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const isAfter = (r: Row) =>
      after === null || r.createdAt.getTime() < after.at.getTime() || (r.createdAt.getTime() === after.at.getTime() && r.id < after.id);
    return [...this.rows.values()].filter((r) => r.orgId === orgId && isAfter(r)).sort(newestFirst).slice(0, take).map(copy);
  }

  async findForVerification(id: string): Promise<VerifiableApiKey | null> {
    const row = this.rows.get(id);
    if (!row) return null;
    return {
      id: row.id,
      orgId: row.orgId,
      name: row.name,
      type: row.type,
      keyHash: row.keyHash,
      scopes: [...row.scopes],
      ipAllowlist: [...row.ipAllowlist],
      expiresAt: row.expiresAt?.getTime() ?? null,
      revoked: row.revokedAt !== null,
      willOnRevoke: this.willPolicies.get(row.orgId) ?? null,
    };
  }

  async touchLastUsed(id: string): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.lastUsedAt = new Date();
  }

  private asTransaction(): ApiKeysTransaction {
    return {
      findInOrgForUpdate: (orgId, id) => this.findInOrg(orgId, id),
      insert: (key) => this.insert(key),
      update: async (id, change) => {
        const row = this.rows.get(id);
        if (row) Object.assign(row, change);
      },
      revokeGracePredecessors: async (id, at) => {
        const ids: string[] = [];
        for (const row of this.rows.values()) {
          if (row.replacedBy === id && row.revokedAt === null && (row.expiresAt === null || row.expiresAt > at)) {
            row.revokedAt = at;
            ids.push(row.id);
          }
        }
        return ids;
      },
      claimExpired: async (limit) => {
        const now = Date.now();
        const due = [...this.rows.values()]
          .filter((r) => r.expiresAt !== null && r.expiresAt.getTime() <= now && r.expiryEnforcedAt === null && r.revokedAt === null)
          .slice(0, limit);
        for (const row of due) row.expiryEnforcedAt = new Date(now);
        return due.map((r) => r.id);
      },
      lockBootstrap: async () => undefined,
      anyOrgExists: async () => this.orgs.size > 0,
      insertOrg: async (org) => {
        this.orgs.set(org.id, org.name);
      },
    };
  }
}

/** {@link KeyRevocationRecorder} that remembers what it was asked to record. */
export class RecordingKeyRevocations implements KeyRevocationRecorder {
  readonly recorded: Array<{ keyIds: string[]; reason: string }> = [];

  async record(_tx: ApiKeysTransaction, keyIds: readonly string[], reason: string): Promise<void> {
    if (keyIds.length > 0) this.recorded.push({ keyIds: [...keyIds], reason });
  }
}
