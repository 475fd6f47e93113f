import { createHash } from 'node:crypto';

import { type LdapBinder, ldapCredentialId } from '@signet/contracts';
import { parseMqttUsername } from '@signet/credentials';
import type { AuthResult, ConnectRequest } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import { type ChainStep, isApiKeyPassword, isTokenPassword, NOT_MINE, type StepAnswer } from './chain';
import type { CredentialVerdictCache } from './revocation-subscriber';
import { VerdictCache } from './verdict-cache';

export interface LdapBindStepOptions {
  binder: LdapBinder;
  /** How long a good bind is trusted (SIGNET_LDAP_BIND_CACHE_SECONDS); 0: asked on every CONNECT. */
  allowCacheMs: number;
  /** How long a refusal is remembered: brief, so a user who fixed a typo is not kept out. */
  denyCacheMs?: number;
  cacheSize?: number;
  now?: () => number;
}

interface Cached {
  orgId: string;
  credentialId: string;
  /** null: a deny. */
  permissions: { publish: string[]; subscribe: string[] } | null;
}

/**
 * The `ldap` step: a username (`user@org`) and password checked by a bind
 * against the org's directory, through the directory feature. The verdict is
 * cached by a SHA-256 of the credentials, never the password itself: a good
 * bind for `allowCacheMs`, a refusal briefly, so the directory is not asked
 * per CONNECT. `tkn_` and `sk_`/`rk_` passwords are other steps' business. A
 * revocation naming the user's LDAP credential id (the directory's
 * deprovisioning) or the org drops what it covers and closes their sessions.
 */
export class LdapBindStep implements ChainStep, CredentialVerdictCache {
  readonly name = 'ldap' as const;
  private readonly cache: VerdictCache<Cached>;
  readonly stats = { binds: 0, cacheHits: 0 };

  constructor(private readonly options: LdapBindStepOptions) {
    this.cache = new VerdictCache({ size: options.cacheSize, now: options.now ?? Date.now });
  }

  decide(request: ConnectRequest, orgId: string | null): StepAnswer | Promise<StepAnswer> {
    const subject = request.username ? parseMqttUsername(request.username)?.subject : undefined;
    if (orgId === null || !subject || !request.password || isTokenPassword(request.password) || isApiKeyPassword(request.password)) return NOT_MINE;
    const digest = createHash('sha256').update(JSON.stringify([orgId, subject, request.password.toString('base64')])).digest('base64url');
    const cached = this.cache.get(digest);
    if (cached) {
      this.stats.cacheHits++;
      return this.answer(cached, subject, request);
    }
    return this.cache.once(digest, (remember) => this.ask(remember, orgId, subject, request));
  }

  invalidate(credentialIds: readonly string[]): void {
    this.cache.invalidate(credentialIds);
  }

  get size(): number {
    return this.cache.size;
  }

  private async ask(remember: (entry: Cached, ttl: number) => void, orgId: string, subject: string, request: ConnectRequest): Promise<StepAnswer> {
    this.stats.binds++;
    let verdict;
    try {
      verdict = await this.options.binder.bindConnect(orgId, subject, request.password!.toString('utf8'));
    } catch {
      return { ok: false, reason: 'server_unavailable', detail: 'the directory could not be asked' };
    }
    if (verdict.result === 'ignore') return NOT_MINE;
    // Never 0x86/0x87 for a directory that did not answer: it did not say no.
    if (verdict.result === 'unavailable') return { ok: false, reason: 'server_unavailable', detail: verdict.detail };
    const entry: Cached = { orgId, credentialId: ldapCredentialId(orgId, subject), permissions: verdict.result === 'allow' ? verdict.permissions : null };
    const ttl = entry.permissions ? this.options.allowCacheMs : (this.options.denyCacheMs ?? 5_000);
    remember(entry, ttl);
    return verdict.result === 'deny' ? { ok: false, reason: 'bad_credentials', detail: `LDAP bind refused: ${verdict.detail}` } : this.answer(entry, subject, request);
  }

  private answer(entry: Cached, subject: string, request: ConnectRequest): AuthResult {
    if (!entry.permissions) return { ok: false, reason: 'bad_credentials', detail: 'LDAP bind refused' };
    return {
      ok: true,
      principal: {
        credentialId: entry.credentialId,
        kind: 'ldap',
        orgId: entry.orgId,
        subject,
        expiresAt: Infinity,
        permissions: PermissionSet.fromTemplates(entry.permissions, { user_id: subject, org_id: entry.orgId, client_id: request.clientId }),
      },
    };
  }
}
