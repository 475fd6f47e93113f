import { Inject, Injectable } from '@nestjs/common';
import { Brackets, DataSource, EntityManager } from 'typeorm';

import {
  allowlistProblem,
  ApiKeyType,
  cidrCovered,
  MAX_SCOPES,
  scopeHeld,
  scopeProblem,
  userIdProblem,
} from '@signet/credentials';
import { badRequest, conflict, DATA_SOURCE, forbidden, notFound } from '@signet/http';
import { ApiKeyEntity, inTransaction } from '@signet/persistence';

import { ApiKeysService } from './api-keys.service';
import { returningRows } from './sql';
import { KEY_REVOCATION_REASONS, KeyRevocations } from './key-revocations';
import type { ApiKeyPrincipal } from './principal';

/** Rotation grace when none is asked for: long enough to roll a deployment. */
export const DEFAULT_GRACE_SECONDS = 3600;
export const MAX_GRACE_SECONDS = 7 * 86400;
export const MAX_KEYS_PAGE = 100;
const KEY_ID_PATTERN = /^[0-9a-z]{12}$/;

export interface CreateKeyRequest {
  name: string;
  type: ApiKeyType;
  scopes?: string[];
  ipAllowlist?: string[];
  expiresAt?: string;
}

export interface KeyView {
  row: ApiKeyEntity;
}

const escalation = (detail: string) => forbidden('privilege_escalation', detail);

/**
 * The key lifecycle behind /v1/keys: create, list, read, rotate, revoke.
 * The rule throughout: a restricted key can never produce, take over or
 * widen a key with rights it does not hold itself (403 `privilege_escalation`).
 */
@Injectable()
export class KeysService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly keys: ApiKeysService,
    private readonly revocations: KeyRevocations,
  ) {}

  async create(caller: ApiKeyPrincipal, request: CreateKeyRequest): Promise<{ row: ApiKeyEntity; apiKey: string }> {
    const nameProblem = userIdProblem(request.name);
    if (nameProblem) throw badRequest('invalid_name', `name ${nameProblem.replace('user_id', 'name')}`);
    const scopes = this.checkScopes(request.type, request.scopes);
    if (request.ipAllowlist !== undefined) {
      const problem = allowlistProblem(request.ipAllowlist);
      if (problem) throw badRequest('invalid_ip_allowlist', `ip_allowlist: ${problem}`);
    }
    let expiresAt: Date | null = null;
    if (request.expiresAt !== undefined) {
      const t = Date.parse(request.expiresAt);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(request.expiresAt) || Number.isNaN(t)) {
        throw badRequest('invalid_expires_at', 'expires_at must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z');
      }
      if (t <= Date.now()) throw badRequest('invalid_expires_at', 'expires_at must be in the future');
      expiresAt = new Date(t);
    }
    let ipAllowlist = request.ipAllowlist ?? [];
    if (caller.type === 'restricted') {
      if (request.type === 'secret') throw escalation('a restricted key cannot create a secret key');
      const missing = scopes.filter((s) => !scopeHeld(caller.scopes, s, caller.orgId));
      if (missing.length > 0) throw escalation(`this key does not hold: ${missing.join(', ')}`);
      // Omitted limits are inherited; explicit ones may only narrow the caller's.
      if (caller.ipAllowlist.length > 0) {
        if (request.ipAllowlist === undefined) ipAllowlist = [...caller.ipAllowlist];
        const outside = ipAllowlist.filter((e) => !cidrCovered(caller.ipAllowlist, e));
        if (ipAllowlist.length === 0 || outside.length > 0) {
          throw escalation(`ip_allowlist must stay inside this key's own (${caller.ipAllowlist.join(', ')})`);
        }
      }
      if (caller.expiresAt !== null) {
        if (expiresAt === null) expiresAt = new Date(caller.expiresAt);
        else if (expiresAt.getTime() > caller.expiresAt) throw escalation('the new key must not outlive this key');
      }
    }
    const created = await this.keys.createKey({
      orgId: caller.orgId,
      name: request.name,
      type: request.type,
      scopes,
      ipAllowlist,
      expiresAt,
    });
    return { row: await this.dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ id: created.keyId }), apiKey: created.apiKey };
  }

  async list(caller: ApiKeyPrincipal, limit: number, cursor?: string): Promise<{ rows: ApiKeyEntity[]; nextCursor: string | null }> {
    const qb = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.org_id = :org', { org: caller.orgId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .take(limit + 1);
    if (cursor !== undefined) {
      const decoded = decodeCursor(cursor);
      qb.andWhere(
        new Brackets((w) =>
          w.where('k.created_at < :at', { at: decoded.at }).orWhere('k.created_at = :at AND k.id < :id', { at: decoded.at, id: decoded.id }),
        ),
      );
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async get(caller: ApiKeyPrincipal, id: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<ApiKeyEntity> {
    const row = KEY_ID_PATTERN.test(id)
      ? await manager.findOne(ApiKeyEntity, { where: { id, orgId: caller.orgId }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) })
      : null;
    // Another org's key is as unknown as a missing one.
    if (!row) throw notFound('key_not_found', `no API key ${id.slice(0, 40)} in this org`);
    return row;
  }

  async rotate(caller: ApiKeyPrincipal, id: string, graceSeconds = DEFAULT_GRACE_SECONDS): Promise<{ row: ApiKeyEntity; apiKey: string; previous: ApiKeyEntity }> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw badRequest('invalid_grace_period', `grace_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`);
    }
    const result = await inTransaction(this.dataSource, async (manager) => {
      const old = await this.get(caller, id, manager, true);
      this.checkManageable(caller, old);
      const now = Date.now();
      if (old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt.getTime() <= now)) {
        throw conflict('key_not_active', 'this key is revoked or expired; create a new one instead');
      }
      if (old.replacedBy !== null) throw conflict('key_already_rotated', `this key was already rotated to ${old.replacedBy}`);
      const created = await this.keys.createKey(
        {
          orgId: old.orgId,
          name: old.name,
          type: old.type,
          scopes: old.scopes,
          ipAllowlist: old.ipAllowlist,
          expiresAt: old.expiresAt,
          rotatedFrom: old.id,
        },
        manager,
      );
      const graceEnd = new Date(Math.min(now + graceSeconds * 1000, old.expiresAt?.getTime() ?? Infinity));
      if (graceSeconds === 0) {
        await manager.update(ApiKeyEntity, { id: old.id }, { replacedBy: created.keyId, revokedAt: new Date(now) });
        await this.revocations.record(manager, [old.id], KEY_REVOCATION_REASONS.rotated);
      } else {
        // The expiry sweeper turns the end of the grace period into a revocation everywhere.
        await manager.update(ApiKeyEntity, { id: old.id }, { replacedBy: created.keyId, expiresAt: graceEnd });
      }
      return created;
    });
    // Local verdicts of the old key must learn its new expiry now, not in a minute.
    this.keys.invalidateKey(id);
    const repo = this.dataSource.getRepository(ApiKeyEntity);
    return { row: await repo.findOneByOrFail({ id: result.keyId }), apiKey: result.apiKey, previous: await repo.findOneByOrFail({ id }) };
  }

  /** Revokes at once (idempotent). A predecessor still in its rotation grace goes with it. */
  async revoke(caller: ApiKeyPrincipal, id: string): Promise<void> {
    await inTransaction(this.dataSource, async (manager) => {
      const row = await this.get(caller, id, manager, true);
      this.checkManageable(caller, row);
      const now = new Date();
      const predecessors = returningRows<{ id: string }>(await manager.query(
        `UPDATE api_keys SET revoked_at = $2 WHERE replaced_by = $1 AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > $2) RETURNING id`,
        [row.id, now],
      ));
      const ids = predecessors.map((p) => p.id);
      if (row.revokedAt === null) {
        await manager.update(ApiKeyEntity, { id: row.id }, { revokedAt: now });
        ids.push(row.id);
      }
      await this.revocations.record(manager, ids, KEY_REVOCATION_REASONS.revoked);
    });
  }

  /** A restricted key may manage only keys whose rights it holds itself. */
  private checkManageable(caller: ApiKeyPrincipal, target: ApiKeyEntity): void {
    if (caller.type === 'secret' || caller.keyId === target.id) return;
    if (target.type === 'secret') throw escalation('a restricted key cannot manage a secret key');
    const missing = target.scopes.filter((s) => !scopeHeld(caller.scopes, s, caller.orgId));
    if (missing.length > 0) throw escalation(`this key does not hold: ${missing.join(', ')}`);
    if (caller.ipAllowlist.length > 0 && (target.ipAllowlist.length === 0 || target.ipAllowlist.some((e) => !cidrCovered(caller.ipAllowlist, e)))) {
      throw escalation("the target key's ip_allowlist is wider than this key's");
    }
  }

  private checkScopes(type: ApiKeyType, requested: string[] | undefined): string[] {
    if (type === 'secret') {
      if (requested !== undefined && requested.length > 0) {
        throw badRequest('scopes_not_allowed', 'secret (sk_) keys have full access to their org and take no scopes; use type "restricted"');
      }
      return [];
    }
    if (requested === undefined || requested.length === 0) throw badRequest('scopes_required', 'a restricted key needs at least one scope');
    if (requested.length > MAX_SCOPES) throw badRequest('invalid_scope', `at most ${MAX_SCOPES} scopes`);
    requested.forEach((scope, i) => {
      const problem = scopeProblem(scope);
      if (problem) throw badRequest('invalid_scope', `scopes[${i}] '${String(scope).slice(0, 80)}': ${problem}`, { scope });
    });
    return [...new Set(requested)];
  }
}

function encodeCursor(row: ApiKeyEntity): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) return { at: new Date(at), id };
  } catch {
    // fall through
  }
  throw badRequest('invalid_cursor', 'cursor is not one this API returned');
}
