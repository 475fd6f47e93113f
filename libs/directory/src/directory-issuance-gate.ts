import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

import { filterCovers, Permissions } from '@signet/permissions';
import type { IssuanceGate } from '@signet/tokens';

import { DIRECTORY_REPOSITORY, DirectoryRepository } from './directory.repository';
import { directoryPermissionExceeded, directoryUserDisabled, directoryUserUnknown, directoryUserWithoutAccess } from './errors';

/**
 * POST /v1/tokens in an org with a directory: a directory user gets the union
 * of their groups' permissions; a request naming permissions may narrow them,
 * never widen. Deactivated users are refused; unknown ones per the org's policy.
 * The token's user id is matched to the userName exactly: tokens are revoked by
 * user id, so a differently cased name would escape deprovisioning.
 */
@Injectable()
export class DirectoryIssuanceGate implements IssuanceGate {
  /**
   * Orgs seen without a directory: most orgs have none, and their issuances then skip the query. This
   * process forgets an org the moment it connects one (forget()); another process within NO_DIRECTORY_TTL_MS.
   */
  private readonly withoutDirectory = new LRUCache<string, true>({ max: 100_000, ttl: NO_DIRECTORY_TTL_MS });

  constructor(@Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository) {}

  /** `orgId` has (or may now have) a directory: its next issuance asks the database. */
  forget(orgId: string): void {
    this.withoutDirectory.delete(orgId);
  }

  async permissionsFor(orgId: string, userId: string, requested: Permissions, explicit: boolean): Promise<Permissions> {
    if (this.withoutDirectory.has(orgId)) return requested;
    const access = await this.directory.access(orgId, userId);
    if (access === null) {
      this.withoutDirectory.set(orgId, true);
      return requested;
    }
    const user = access.user?.userName === userId ? access.user : null;
    if (user === null) {
      if (access.unknownUsers === 'allow') return requested;
      throw directoryUserUnknown();
    }
    if (!user.active) throw directoryUserDisabled();
    const granted = unionOf(user.permissions);
    if (granted.publish.length === 0 && granted.subscribe.length === 0) throw directoryUserWithoutAccess();
    if (!explicit) return granted;
    const missing = [
      ...requested.publish.filter((f) => !coveredInSameToken(granted.publish, f, orgId)).map((f) => `publish ${f}`),
      ...requested.subscribe.filter((f) => !coveredInSameToken(granted.subscribe, f, orgId)).map((f) => `subscribe ${f}`),
    ];
    if (missing.length > 0) throw directoryPermissionExceeded(missing);
    return requested;
  }
}

/** How long another process may still issue without an org's newly connected directory. */
export const NO_DIRECTORY_TTL_MS = 5000;

export function unionOf(sets: readonly Permissions[]): Permissions {
  return {
    publish: [...new Set(sets.flatMap((s) => s.publish))],
    subscribe: [...new Set(sets.flatMap((s) => s.subscribe))],
  };
}

/**
 * Granted and requested templates end up in the same token, so a placeholder
 * means the same value on both sides: `{user_id}` is covered by `{user_id}`,
 * `+` or `#` (unlike a key's grant, where it names the key's own holder).
 */
export function coveredInSameToken(granted: readonly string[], requested: string, orgId: string): boolean {
  const levels = (t: string) => t.split('/').map((level) => (level === '{org_id}' ? orgId : level));
  const req = levels(requested);
  return granted.some((g) => filterCovers(levels(g), req));
}
