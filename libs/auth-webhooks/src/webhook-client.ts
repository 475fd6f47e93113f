import { randomUUID } from 'node:crypto';
import CircuitBreaker from 'opossum';
import { Agent, request } from 'undici';

import type { WebhookConnectRequest, WebhookFailMode, WebhookVerdict } from '@signet/contracts';

import { guardedLookup, isRefusedAddress } from './address-guard';
import type { AuthWebhooksOptions } from './options';
import { webhookHeaders } from './signature';

/** An org's endpoint as the caller needs it (secrets opened). */
export interface WebhookTarget {
  orgId: string;
  url: string;
  /** The current secret first, then the previous one while a rotation lasts. */
  secrets: string[];
  sendPassword: boolean;
  failMode: WebhookFailMode;
}

/** Why a call gave no answer; in logs and metrics (never the body or a secret). */
export type NoAnswer = 'timeout' | 'status' | 'redirect' | 'too_large' | 'bad_json' | 'bad_answer' | 'refused_address' | 'network' | 'breaker_open';

export interface WebhookCallObserver {
  (event: { orgId: string; outcome: WebhookVerdict['result'] | NoAnswer; ms: number }): void;
}

class NoAnswerError extends Error {
  constructor(readonly why: NoAnswer, detail: string) {
    super(detail);
  }
}

/** `{result, permissions?, expire_at?, cache_seconds?}`; anything else is no answer. */
function parseAnswer(text: string, options: AuthWebhooksOptions): WebhookVerdict {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new NoAnswerError('bad_json', 'response is not JSON');
  }
  if (typeof body !== 'object' || body === null) throw new NoAnswerError('bad_answer', 'response is not an object');
  const b = body as Record<string, unknown>;
  const cache = b['cache_seconds'];
  if (cache !== undefined && (typeof cache !== 'number' || !Number.isFinite(cache) || cache < 0)) {
    throw new NoAnswerError('bad_answer', 'cache_seconds must be a non-negative number');
  }
  switch (b['result']) {
    case 'ignore':
      return { result: 'ignore' };
    case 'deny':
      return { result: 'deny', cacheSeconds: Math.min(cache ?? options.denyCacheSeconds, options.denyCacheSeconds) };
    case 'allow': {
      const perm = (b['permissions'] ?? {}) as Record<string, unknown>;
      const list = (v: unknown): string[] => {
        if (v === undefined) return [];
        if (!Array.isArray(v) || !v.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 1024)) {
          throw new NoAnswerError('bad_answer', 'permissions must be lists of topic filters');
        }
        return v as string[];
      };
      let expiresAt: number | null = null;
      const exp = b['expire_at'];
      if (exp !== undefined && exp !== null) {
        // Seconds since the epoch (EMQX's expire_at) or an RFC 3339 string.
        const ms = typeof exp === 'number' ? exp * 1000 : typeof exp === 'string' ? Date.parse(exp) : NaN;
        if (!Number.isFinite(ms)) throw new NoAnswerError('bad_answer', 'expire_at must be epoch seconds or an RFC 3339 time');
        expiresAt = ms;
      }
      return {
        result: 'allow',
        permissions: { publish: list(perm['publish']), subscribe: list(perm['subscribe']) },
        expiresAt,
        cacheSeconds: Math.min(cache ?? 0, options.maxCacheSeconds),
      };
    }
    default:
      throw new NoAnswerError('bad_answer', 'result must be allow, deny or ignore');
  }
}

/**
 * Calls org auth webhooks: Standard Webhooks signatures, a keep-alive pool
 * (undici), connect and total timeouts below the edge's CONNECT timeout, no
 * redirects, a response size cap, the address guard at connect time, and a
 * circuit breaker per org (opossum). Whatever goes wrong is "no answer":
 * the org's fail mode decides.
 */
export class WebhookClient {
  private readonly agent: Agent;
  private readonly breakers = new Map<string, CircuitBreaker<[WebhookTarget, string], WebhookVerdict>>();

  constructor(
    private readonly options: AuthWebhooksOptions,
    private readonly observe?: WebhookCallObserver,
  ) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.connectTimeoutMs, lookup: guardedLookup(options.allowPrivateAddresses) },
    });
  }

  /** Whether the URL may be registered: https (or http when allowed), no credentials, no refused IP literal. */
  checkUrl(url: string): string | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return 'not a URL';
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && this.options.allowHttp)) {
      return this.options.allowHttp ? 'must be http(s)' : 'must be https';
    }
    if (u.username || u.password) return 'must not carry credentials';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!this.options.allowPrivateAddresses && /^[\d.]+$|:/.test(host) && isRefusedAddress(host)) {
      return 'private, loopback, link-local and metadata addresses are refused';
    }
    return null;
  }

  async call(target: WebhookTarget, connect: WebhookConnectRequest): Promise<WebhookVerdict> {
    const started = Date.now();
    const body = JSON.stringify({
      event: 'client.connect',
      client_id: connect.clientId,
      username: connect.username,
      ...(target.sendPassword && connect.password !== undefined ? { password: connect.password } : {}),
      protocol_version: connect.protocolVersion,
      peer_address: connect.peerAddress,
      listener: connect.listener,
      edge_id: connect.edgeId,
      request_id: connect.requestId,
      ...(connect.certificate ? { certificate: connect.certificate } : {}),
    });
    try {
      const verdict = await this.breakerFor(target.orgId).fire(target, body);
      this.observe?.({ orgId: target.orgId, outcome: verdict.result, ms: Date.now() - started });
      return verdict;
    } catch (err) {
      const why: NoAnswer =
        err instanceof NoAnswerError ? err.why : (err as { code?: string }).code === 'EOPENBREAKER' ? 'breaker_open' : 'network';
      this.observe?.({ orgId: target.orgId, outcome: why, ms: Date.now() - started });
      return { result: 'unavailable', failMode: target.failMode, detail: `auth webhook gave no answer: ${why}` };
    }
  }

  /** The breaker state of an org (for tests and health). */
  breakerState(orgId: string): 'closed' | 'open' | 'half_open' {
    const b = this.breakers.get(orgId);
    if (!b) return 'closed';
    return b.opened ? 'open' : b.halfOpen ? 'half_open' : 'closed';
  }

  /** Forgets an org's breaker (its endpoint changed). */
  reset(orgId: string): void {
    this.breakers.get(orgId)?.shutdown();
    this.breakers.delete(orgId);
  }

  async close(): Promise<void> {
    for (const b of this.breakers.values()) b.shutdown();
    this.breakers.clear();
    await this.agent.close();
  }

  private breakerFor(orgId: string): CircuitBreaker<[WebhookTarget, string], WebhookVerdict> {
    let breaker = this.breakers.get(orgId);
    if (!breaker) {
      const { errorPercentage, volume, resetMs, windowMs } = this.options.breaker;
      breaker = new CircuitBreaker((target: WebhookTarget, body: string) => this.post(target, body), {
        // Our own timeouts bound the call; opossum's would leave the request running.
        timeout: false,
        errorThresholdPercentage: errorPercentage,
        volumeThreshold: volume,
        resetTimeout: resetMs,
        rollingCountTimeout: windowMs,
        rollingCountBuckets: 10,
      });
      this.breakers.set(orgId, breaker);
    }
    return breaker;
  }

  private async post(target: WebhookTarget, body: string): Promise<WebhookVerdict> {
    const problem = this.checkUrl(target.url);
    if (problem) throw new NoAnswerError('refused_address', problem);
    const id = `msg_${randomUUID()}`;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Signet-Auth-Webhook/1',
      ...webhookHeaders(target.secrets, id, Math.floor(Date.now() / 1000), body),
    };
    let res;
    try {
      res = await request(target.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const e = err as { name?: string; code?: string; cause?: { code?: string } };
      if (e.code === 'ERR_WEBHOOK_ADDRESS_REFUSED' || e.cause?.code === 'ERR_WEBHOOK_ADDRESS_REFUSED') throw new NoAnswerError('refused_address', 'address refused');
      if (e.code === 'ERR_WEBHOOK_ADDRESS_REFUSED') throw new NoAnswerError('refused_address', 'address refused');
      if (e.name === 'TimeoutError' || e.name === 'AbortError' || /TIMEOUT/.test(e.code ?? '')) throw new NoAnswerError('timeout', 'timed out');
      throw new NoAnswerError('network', 'network error');
    }
    let consumed = false;
    try {
      if (res.statusCode >= 300 && res.statusCode < 400) throw new NoAnswerError('redirect', `status ${res.statusCode}`);
      if (res.statusCode !== 200) throw new NoAnswerError('status', `status ${res.statusCode}`);
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > this.options.maxResponseBytes) throw new NoAnswerError('too_large', 'response too large');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > this.options.maxResponseBytes) throw new NoAnswerError('too_large', 'response too large');
        chunks.push(chunk as Buffer);
      }
      consumed = true;
      return parseAnswer(Buffer.concat(chunks).toString('utf8'), this.options);
    } catch (err) {
      if (err instanceof NoAnswerError) throw err;
      const e = err as { name?: string };
      throw new NoAnswerError(e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'network', 'reading the response failed');
    } finally {
      // An unread rest (too large, redirect, error status) must not hold the pooled connection.
      if (!consumed) {
        res.body.on('error', () => undefined);
        res.body.destroy();
      }
    }
  }
}
