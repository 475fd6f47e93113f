import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '@signet/observability';


import { FEDERATION_OPTIONS, FederationOptions } from '../options';
import type { LoadedProvider } from '../providers/provider';
import { OidcDiscovery } from './discovery';
import { JwksRegistry } from './jwks-cache';
import { createLogoutVerifier, createVerifier, IdpTokenVerifier, VerifierDeps } from './verifiers';

/** Verifiers kept per provider version: an update of the provider (new settings, new secret) builds a new one. */
const MAX_VERIFIERS = 1000;
/** A large tolerance would quietly extend every token's life. */
const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Process-wide verification state: one JWKS cache per key URL, one discovery
 * cache per issuer, one verifier per provider version.
 */
@Injectable()
export class VerifierCache {
  private readonly deps: VerifierDeps;
  private readonly verifiers: VerifierMap = new Map();

  constructor(@Inject(LOGGER) logger: Logger, @Inject(FEDERATION_OPTIONS) options: FederationOptions) {
    const log = logger.child({ component: 'federation' });
    this.deps = {
      jwks: new JwksRegistry({
        timeoutMs: options.fetchTimeoutMs,
        maxBytes: options.maxFetchBytes,
        maxAgeMs: options.jwksMaxAgeMs,
        cooldownMs: options.refetchCooldownMs,
        onStale: (url, error) => log.warn({ url, err: error.message }, 'IdP keys could not be refreshed; serving the last good keys'),
      }),
      discovery: new OidcDiscovery({
        timeoutMs: options.fetchTimeoutMs,
        maxAgeMs: options.discoveryMaxAgeMs,
        cooldownMs: options.refetchCooldownMs,
        onStale: (issuer, error) => log.warn({ issuer, err: error.message }, 'OIDC discovery could not be refreshed; serving the last good metadata'),
      }),
      firebaseJwksUri: options.firebaseJwksUri,
      clockToleranceSeconds: Math.min(Math.max(options.clockToleranceSeconds, 0), MAX_CLOCK_TOLERANCE_SECONDS),
    };
  }

  private readonly logoutVerifiers: VerifierMap = new Map();

  /** The provider's Back-Channel Logout token verifier (same key and metadata caches as its ID tokens). */
  logout(provider: LoadedProvider): IdpTokenVerifier {
    return cachedVerifier(this.logoutVerifiers, provider, () => createLogoutVerifier(provider.kind, provider.settings, provider.secret, this.deps));
  }

  get(provider: LoadedProvider): IdpTokenVerifier {
    return cachedVerifier(this.verifiers, provider, () => createVerifier(provider.kind, provider.settings, provider.secret, this.deps));
  }
}

type VerifierMap = Map<string, { version: string; verifier: IdpTokenVerifier }>;

/** The provider's verifier for its current version, built once per version. */
function cachedVerifier(verifiers: VerifierMap, provider: LoadedProvider, build: () => IdpTokenVerifier): IdpTokenVerifier {
  const cached = verifiers.get(provider.id);
  if (cached && cached.version === provider.version) return cached.verifier;
  const verifier = build();
  if (verifiers.size >= MAX_VERIFIERS) verifiers.clear();
  verifiers.set(provider.id, { version: provider.version, verifier });
  return verifier;
}
