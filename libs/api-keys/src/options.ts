import type { SignetConfig } from '@signet/config';

/** Tunables of the API key feature; the process builds them from its config (tests shorten them). */
export interface ApiKeysOptions {
  /** How long a verdict (valid or not) is trusted before the database and bcrypt are asked again. */
  verdictTtlMs: number;
  throttle: ThrottleOptions;
  /** Usage counters are written to PostgreSQL this often (and on a clean stop). */
  usageFlushIntervalMs: number;
  /** How often the key service looks for keys whose expiry (or rotation grace) has just ended. */
  expirySweepIntervalMs: number;
  /**
   * Key checks (database read and bcrypt) running at once for presented keys not cached yet; beyond,
   * a check is shed (REST 503 `verification_overloaded`, MQTT server unavailable) rather than queued, so
   * a flood of new keys cannot queue up in front of the libuv pool and delay everyone.
   */
  maxConcurrentChecks: number;
}

export interface ThrottleOptions {
  /** Failed attempts from one address within `windowMs` before it is throttled. */
  ipFailures: number;
  /** Failed attempts on one key id within `windowMs` before guessing it is throttled (see GuessThrottle). */
  keyFailures: number;
  windowMs: number;
}

/** Provided by `ApiKeysModule.forRoot(options)`; without it the defaults apply. */
export const API_KEYS_OPTIONS = Symbol('API_KEYS_OPTIONS');

export const DEFAULT_API_KEYS_OPTIONS: ApiKeysOptions = {
  verdictTtlMs: 60_000,
  throttle: { ipFailures: 30, keyFailures: 10, windowMs: 60_000 },
  usageFlushIntervalMs: 10_000,
  expirySweepIntervalMs: 1_000,
  // The libuv pool bcrypt runs on has 4 threads by default: more at once would only queue there.
  maxConcurrentChecks: 8,
};

/** The options of `config.apiKeys` (SIGNET_KEY_CACHE_MS, SIGNET_KEY_THROTTLE_*, SIGNET_USAGE_FLUSH_MS). */
export function apiKeysOptionsFrom(config: SignetConfig): ApiKeysOptions {
  const k = config.apiKeys;
  return {
    verdictTtlMs: k.verdictTtlMs,
    throttle: { ipFailures: k.throttleIpFailures, keyFailures: k.throttleKeyFailures, windowMs: k.throttleWindowMs },
    usageFlushIntervalMs: k.usageFlushMs,
    maxConcurrentChecks: k.maxConcurrentChecks,
    // Not configurable: a second between a grace end and its revocation everywhere is what docs/api-keys.md promises.
    expirySweepIntervalMs: DEFAULT_API_KEYS_OPTIONS.expirySweepIntervalMs,
  };
}

export function resolveOptions(partial?: Partial<ApiKeysOptions>): ApiKeysOptions {
  return {
    ...DEFAULT_API_KEYS_OPTIONS,
    ...partial,
    throttle: { ...DEFAULT_API_KEYS_OPTIONS.throttle, ...partial?.throttle },
  };
}
