import { idpUnavailable } from '../errors';
import { idpUrlProblem, isLoopbackHost } from './fetch';
import { ASYMMETRIC_ALGORITHMS } from './jwt';

export interface DiscoveredIssuer {
  issuer: string;
  jwksUri: string;
  /** `id_token_signing_alg_values_supported`, restricted to asymmetric algorithms. */
  algorithms: string[];
}

export interface OidcDiscoveryOptions {
  timeoutMs: number;
  /** Metadata older than this is refetched before use; on failure the last good metadata keeps serving. */
  maxAgeMs: number;
  /** After a failed fetch with nothing cached, no new attempt for this long (503 meanwhile). */
  cooldownMs: number;
  now?: () => number;
  onStale?: (issuer: string, error: Error) => void;
}

interface Entry {
  value: DiscoveredIssuer | null;
  fetchedAt: number;
  lastAttemptAt: number;
  inflight: Promise<void> | null;
}

/**
 * OpenID Connect Discovery 1.0 through openid-client, cached per issuer.
 * openid-client checks that the document's `issuer` equals the configured one
 * (a mix-up defence); we also require its `jwks_uri` to pass the https rule.
 *
 * openid-client@6 is ESM-only: it is loaded with a dynamic `import()`, which
 * compiles to `require()` in our CommonJS output (Node 20.19+ can require ESM)
 * and is transformed by @swc/jest under jest (see jest.config.js). Lazy, so a
 * process without `oidc` providers never loads it.
 */
export class OidcDiscovery {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: OidcDiscoveryOptions) {
    this.now = options.now ?? Date.now;
  }

  async metadata(issuer: string): Promise<DiscoveredIssuer> {
    let entry = this.entries.get(issuer);
    if (!entry) {
      entry = { value: null, fetchedAt: 0, lastAttemptAt: Number.NEGATIVE_INFINITY, inflight: null };
      this.entries.set(issuer, entry);
    }
    const stale = entry.value === null || this.now() - entry.fetchedAt > this.options.maxAgeMs;
    if (stale && (entry.value !== null || this.now() - entry.lastAttemptAt >= this.options.cooldownMs)) {
      await this.refresh(issuer, entry);
    }
    if (entry.value === null) throw idpUnavailable("the identity provider's discovery document cannot be fetched");
    return entry.value;
  }

  private refresh(issuer: string, entry: Entry): Promise<void> {
    if (entry.inflight) return entry.inflight;
    entry.lastAttemptAt = this.now();
    entry.inflight = discover(issuer, this.options.timeoutMs)
      .then((value) => {
        entry.value = value;
        entry.fetchedAt = this.now();
      })
      .catch((err: unknown) => {
        if (entry.value !== null) this.options.onStale?.(issuer, err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        entry.inflight = null;
      });
    return entry.inflight;
  }
}

async function discover(issuer: string, timeoutMs: number): Promise<DiscoveredIssuer> {
  const client = await import('openid-client');
  const url = new URL(issuer);
  // openid-client insists on https; loopback http is allowed for local development and tests only.
  const execute = url.protocol === 'http:' && isLoopbackHost(url.hostname) ? [client.allowInsecureRequests] : [];
  // The client id is required by the API but unused: only the server metadata is read.
  const configuration = await client.discovery(url, 'signet-federation', undefined, undefined, {
    timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    execute,
  });
  const metadata = configuration.serverMetadata();
  const jwksUri = metadata.jwks_uri;
  if (typeof jwksUri !== 'string' || idpUrlProblem(jwksUri) !== null) {
    throw new Error(`discovery document of ${issuer} has no acceptable jwks_uri`);
  }
  const advertised = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
  const algorithms = advertised.filter((alg) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
  return { issuer: metadata.issuer, jwksUri, algorithms: algorithms.length > 0 ? algorithms : ['RS256'] };
}
