import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { JWK, KeyLike } from 'jose';

import {
  generateSigningKey,
  importPublicJwk,
  importSigningKey,
  PublicKeyResolver,
  publicSigningJwk,
  SigningKey,
  type PublicSigningJwk,
} from '@signet/credentials';
import { LOGGER } from '@signet/observability';
import { SECRET_BOX } from '@signet/persistence';
import type { Logger } from '@signet/observability';
import type { SecretBox } from '@signet/persistence';

import { TOKENS_OPTIONS, TokensOptions } from '../options';
import { NewSigningKey, SIGNING_KEY_REPOSITORY, SigningKeyRepository } from '../signing-key.repository';

/** How often keys are re-read, so a rotation done by another replica is picked up. */
export const SIGNING_KEYS_REFRESH_MS = 60_000;
/** An unknown kid triggers a re-read at most this often (a forged kid must not hammer the database). */
const UNKNOWN_KID_RELOAD_MS = 5_000;
/** Extra time a retired key stays published, for clock skew between hosts. */
const CLOCK_SLACK_SECONDS = 60;

const sealContext = (kid: string) => `signing_key:${kid}`;

interface PublishedKey {
  kid: string;
  jwk: PublicSigningJwk;
  verifyKey: KeyLike;
  /** ms epoch; Infinity while the key is active. */
  notAfter: number;
}

/**
 * The keys `tkn_` tokens are signed with (ES256 or RS256: SIGNET_TOKEN_SIGNING_ALG for the keys created
 * from then on; every key verifies whatever its algorithm). One key is active; retired
 * keys stay published (JWKS, gRPC, in-process verification) until `not_after`,
 * when every token they signed has expired. Private keys are stored sealed
 * by the SecretBox and only the active one is ever decrypted.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private active: SigningKey | undefined;
  private published = new Map<string, PublishedKey>();
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private lastReloadAt = 0;

  constructor(
    @Inject(SIGNING_KEY_REPOSITORY) private readonly keys: SigningKeyRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(TOKENS_OPTIONS) private readonly options: TokensOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
    if (this.active?.alg !== this.options.signingAlg) await this.switchAlgorithm();
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.logger.warn({ err }, 'could not refresh signing keys'));
    }, SIGNING_KEYS_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The key new tokens are signed with. */
  signingKey(): SigningKey {
    if (!this.active) throw new Error('signing keys are not loaded yet');
    return this.active;
  }

  /** Public JWKs of every key whose tokens may still be live (RFC 7517); never private material. */
  async publicJwks(): Promise<PublicSigningJwk[]> {
    const now = Date.now();
    return [...this.published.values()].filter((k) => k.notAfter > now).map((k) => ({ ...k.jwk }));
  }

  /**
   * Resolves verification keys by kid for `AccessTokenVerifier`, from memory;
   * an unknown kid re-reads the table (rate limited), so a key created by
   * another replica is found without waiting for the periodic refresh.
   */
  verifierKeyResolver(): PublicKeyResolver {
    return async (kid: string) => {
      const known = this.lookup(kid);
      if (known) return known;
      if (Date.now() - this.lastReloadAt < UNKNOWN_KID_RELOAD_MS) return undefined;
      await this.reload();
      return this.lookup(kid);
    };
  }

  /**
   * Creates a new active key and retires the current one. The retired key
   * stays published until every token it may have signed has expired: the
   * later of the longest TTL allowed from now and the latest expiry issued
   * during its life, plus the refresh period (other replicas keep signing
   * with it until they re-read) and clock slack.
   */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    const key = await generateSigningKey(this.options.signingAlg);
    const retired = (await this.keys.rotate(this.toRow(key), this.graceSeconds(), CLOCK_SLACK_SECONDS)) ?? [];
    this.logger.info({ kid: key.kid, alg: key.alg, retired }, 'signing key rotated');
    await this.reload(true);
    return { kid: key.kid, retired };
  }

  /**
   * The active key is not of SIGNET_TOKEN_SIGNING_ALG (the setting changed): a rotation to a key that is,
   * done once whichever replica gets there first. Tokens of the retired key verify until they expire.
   */
  private async switchAlgorithm(): Promise<void> {
    const key = await generateSigningKey(this.options.signingAlg);
    const retired = await this.keys.rotate(this.toRow(key), this.graceSeconds(), CLOCK_SLACK_SECONDS, key.alg);
    if (retired !== null) this.logger.info({ kid: key.kid, alg: key.alg, retired }, 'signing key rotated to SIGNET_TOKEN_SIGNING_ALG');
    await this.reload(true);
  }

  /** How long a retired key stays published past now: the longest TTL, the refresh period, clock slack. */
  private graceSeconds(): number {
    return this.options.maxTtlSeconds + SIGNING_KEYS_REFRESH_MS / 1000 + CLOCK_SLACK_SECONDS;
  }

  /** Re-reads the published keys; coalesces concurrent calls. */
  reload(force = false): Promise<void> {
    if (this.reloading && !force) return this.reloading;
    const run = this.load().finally(() => {
      if (this.reloading === run) this.reloading = undefined;
    });
    this.reloading = run;
    return run;
  }

  private lookup(kid: string): KeyLike | undefined {
    const k = this.published.get(kid);
    return k && k.notAfter > Date.now() ? k.verifyKey : undefined;
  }

  private async load(): Promise<void> {
    this.lastReloadAt = Date.now();
    const rows = await this.keys.listPublished();
    const next = new Map<string, PublishedKey>();
    for (const row of rows) {
      const previous = this.published.get(row.kid);
      const jwk = publicSigningJwk(row.publicJwk, row.kid);
      next.set(row.kid, {
        kid: row.kid,
        jwk,
        verifyKey: previous?.verifyKey ?? (await importPublicJwk(jwk)),
        notAfter: row.retiredAt === null ? Infinity : (row.notAfter?.getTime() ?? Infinity),
      });
    }
    const newest = rows.find((r) => r.retiredAt === null);
    if (!newest) throw new Error('no active signing key in the database');
    if (this.active?.kid !== newest.kid) {
      let privateJwk: JWK;
      try {
        privateJwk = JSON.parse(this.secretBox.open(newest.privateJwkCiphertext, sealContext(newest.kid))) as JWK;
      } catch (err) {
        throw new Error(
          `cannot decrypt signing key ${newest.kid}: is SIGNET_MASTER_KEY the same as when it was created? (${(err as Error).message})`,
        );
      }
      this.active = await importSigningKey(privateJwk);
      this.logger.info({ kid: newest.kid, alg: this.active.alg }, 'signing key loaded');
    }
    this.published = next;
  }

  /** First start: creates the first key, under a lock so concurrent starts create one. */
  private async ensureActiveKey(): Promise<void> {
    const created = await this.keys.createFirstKey(async () => this.toRow(await generateSigningKey(this.options.signingAlg)));
    if (created) this.logger.info({ kid: created.kid }, 'created the first signing key');
  }

  private toRow(key: Awaited<ReturnType<typeof generateSigningKey>>): NewSigningKey {
    return {
      kid: key.kid,
      privateJwkCiphertext: this.secretBox.seal(JSON.stringify(key.privateJwk), sealContext(key.kid)),
      publicJwk: key.publicJwk,
    };
  }
}
