import { createHash, randomUUID } from 'node:crypto';

import type { WebhookAuthorizer, WebhookConnectRequest } from '@signet/contracts';
import { parseMqttUsername } from '@signet/credentials';
import type { AuthResult, ConnectRequest, Principal } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import { type ChainStep, NOT_MINE, type StepAnswer } from './chain';
import type { CredentialVerdictCache } from './revocation-subscriber';
import { VerdictCache } from './verdict-cache';

export interface WebhookStepOptions {
  authorizer: WebhookAuthorizer;
  edgeId: string;
  /** Upper bound on an allow's cache_seconds. */
  maxAllowCacheMs?: number;
  /** Upper bound on how long a deny is remembered. */
  maxDenyCacheMs?: number;
  cacheSize?: number;
  now?: () => number;
}

interface Cached {
  orgId: string;
  credentialId: string;
  /** null: a deny. */
  grant: { publish: string[]; subscribe: string[]; expiresAt: number } | null;
}

/** The credential id of a webhook-authenticated session: what a revocation of that user names. */
export const webhookCredentialId = (orgId: string, subject: string): string => `whu:${orgId}:${subject}`;

/**
 * The auth-webhook step: asks the org's webhook (through the auth-webhook
 * service) and caches its verdict by a SHA-256 of the credentials, never the
 * raw password: allows for the receiver's cache_seconds (capped), denies
 * briefly. A revocation naming the org id or the user's webhook credential id
 * purges the cache entries it covers.
 */
export class WebhookStep implements ChainStep, CredentialVerdictCache {
  readonly name = 'webhook' as const;
  private readonly cache: VerdictCache<Cached>;
  private readonly now: () => number;
  readonly stats = { calls: 0, cacheHits: 0 };

  constructor(private readonly options: WebhookStepOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new VerdictCache({ size: options.cacheSize, now: this.now });
  }

  decide(request: ConnectRequest, orgId: string | null): StepAnswer | Promise<StepAnswer> {
    if (orgId === null || !request.username) return NOT_MINE;
    const digest = createHash('sha256')
      .update(JSON.stringify([orgId, request.username, request.clientId, request.password?.toString('base64') ?? null, verifiedCertificate(request)?.fingerprint ?? null]))
      .digest('base64url');
    const cached = this.cache.get(digest);
    if (cached) {
      this.stats.cacheHits++;
      return this.answer(cached, request);
    }
    return this.cache.once(digest, (remember) => this.ask(remember, orgId, request));
  }

  invalidate(credentialIds: readonly string[]): void {
    this.cache.invalidate(credentialIds);
  }

  /** Drops every cached verdict of these orgs (their webhook or chain changed). */
  purgeOrgs(orgIds: readonly string[]): void {
    this.invalidate(orgIds);
  }

  get size(): number {
    return this.cache.size;
  }

  private async ask(remember: (entry: Cached, ttl: number) => void, orgId: string, request: ConnectRequest): Promise<StepAnswer> {
    const call: WebhookConnectRequest = {
      orgId,
      clientId: request.clientId,
      username: request.username!,
      ...(request.password ? { password: request.password.toString('utf8') } : {}),
      protocolVersion: request.protocolVersion,
      peerAddress: request.remoteAddress,
      listener: request.transport ?? 'tcp',
      edgeId: this.options.edgeId,
      requestId: randomUUID(),
      ...certificateFields(request),
    };
    this.stats.calls++;
    let verdict;
    try {
      verdict = await this.options.authorizer.authorizeConnect(call);
    } catch {
      return { ok: false, reason: 'server_unavailable', detail: 'auth webhook service unavailable' };
    }
    const subject = parseMqttUsername(request.username!)?.subject ?? request.username!;
    const credentialId = webhookCredentialId(orgId, subject);
    const nowMs = this.now();
    switch (verdict.result) {
      case 'ignore':
        return NOT_MINE;
      case 'unavailable':
        // Never 0x87: the receiver did not say no, it did not answer.
        return verdict.failMode === 'ignore' ? NOT_MINE : { ok: false, reason: 'server_unavailable', detail: verdict.detail };
      case 'deny': {
        const entry: Cached = { orgId, credentialId, grant: null };
        const ttl = Math.min(verdict.cacheSeconds * 1000 || 5_000, this.options.maxDenyCacheMs ?? 5_000);
        remember(entry, ttl);
        return this.answer(entry, request);
      }
      case 'allow': {
        const expiresAt = verdict.expiresAt ?? Infinity;
        const entry: Cached = { orgId, credentialId, grant: { ...verdict.permissions, expiresAt } };
        const ttl = Math.min(verdict.cacheSeconds * 1000, this.options.maxAllowCacheMs ?? 300_000, expiresAt - nowMs);
        remember(entry, ttl);
        return this.answer(entry, request);
      }
    }
  }

  private answer(entry: Cached, request: ConnectRequest): AuthResult {
    if (!entry.grant) return { ok: false, reason: 'bad_credentials', detail: 'auth webhook denied' };
    if (entry.grant.expiresAt <= this.now()) return { ok: false, reason: 'bad_credentials', detail: 'auth webhook grant expired' };
    const subject = parseMqttUsername(request.username!)?.subject ?? request.username!;
    const principal: Principal = {
      credentialId: entry.credentialId,
      kind: 'webhook',
      orgId: entry.orgId,
      subject,
      expiresAt: entry.grant.expiresAt,
      permissions: PermissionSet.fromTemplates(entry.grant, { user_id: subject, org_id: entry.orgId, client_id: request.clientId }),
    };
    return { ok: true, principal };
  }
}

const verifiedCertificate = (request: ConnectRequest) => (request.certificate?.verified ? request.certificate : undefined);

/** Only a certificate the TLS layer verified is told to the receiver: an unverified one says nothing about the client. */
function certificateFields(request: ConnectRequest): Pick<WebhookConnectRequest, 'certificate'> {
  const cert = verifiedCertificate(request);
  return cert ? { certificate: { subject: cert.subject, sans: cert.sans, serial: cert.serial, fingerprint: cert.fingerprint } } : {};
}
