import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

import { parseMqttUsername } from '@signet/credentials';
import type { AuthResult, ConnectAuthenticator, ConnectRequest } from '@signet/mqtt-edge';

/**
 * The steps an org can put in its authenticator chain, in the order it wants
 * them asked. `ldap` is a reserved name: the chain skips a step it has no
 * implementation for.
 */
export const CHAIN_STEPS = ['token', 'api_key', 'client_certificate', 'webhook', 'ldap'] as const;
export type ChainStepName = (typeof CHAIN_STEPS)[number];

/**
 * Every org's chain until it configures one. `client_certificate` passes
 * unless the client presents a certificate, so it changes nothing for an org
 * without a CA, and a CA uploaded is enough to connect devices by certificate.
 */
export const DEFAULT_CHAIN: readonly ChainStepName[] = ['token', 'api_key', 'client_certificate'];

/** A step's answer when the CONNECT is not its kind of credential: the next step is asked. */
export const NOT_MINE = Symbol('not-mine');
/**
 * A step's answer when it vouches for part of the CONNECT only (a certificate
 * that also needs a password): the next steps decide, then `check` has the
 * last word on their result.
 */
export interface PassWithCheck {
  readonly check: (result: AuthResult) => AuthResult;
}
export type StepAnswer = AuthResult | typeof NOT_MINE | PassWithCheck;
type Check = PassWithCheck['check'] | undefined;

/** One way of deciding a CONNECT: allow (a principal with permissions and expiry), deny, or not mine. */
export interface ChainStep {
  readonly name: ChainStepName;
  /**
   * Decided in memory from what the credential carries (a `tkn_` signature), with no
   * guessable secret behind it: still run for a throttled address, so a victim sharing
   * the attacker's address connects with a valid token.
   */
  readonly local?: boolean;
  decide(request: ConnectRequest, orgId: string | null): StepAnswer | Promise<StepAnswer>;
  /** True when, for this org, the step must be asked before every other step of its chain. */
  first?(orgId: string | null): boolean;
}

/** Where an org's chain comes from; cached by the chain, so it may ask a service. */
export interface ChainSource {
  chainFor(orgId: string): Promise<readonly ChainStepName[] | null>;
}

/** What decided a CONNECT: a step, or the chain itself (every step passed, or the address is throttled). */
type Decider = Pick<ChainStep, 'local'> & { readonly name: ChainDecision['step'] };
const END_OF_CHAIN: Decider = { name: 'end_of_chain' };
const THROTTLE: Decider = { name: 'throttle' };

export interface ChainDecision {
  orgId: string | null;
  /** The step that answered; `end_of_chain` when every step passed; `throttle` when the address was throttled. */
  step: ChainStepName | 'end_of_chain' | 'throttle';
  result: AuthResult;
  request: ConnectRequest;
  /** From the CONNECT reaching the chain to its decision (performance.now()). */
  durationMs: number;
}

export interface AuthenticatorChainOptions {
  steps: readonly ChainStep[];
  /** Absent: every org has the default chain. */
  source?: ChainSource;
  /** How long an org's chain is trusted before asking the source again (a change made in-process invalidates at once). */
  cacheMs?: number;
  cacheSize?: number;
  /** Failed CONNECTs throttled per address (issue 18, finding 8); absent: none. */
  throttle?: FailedConnectThrottle;
  /** Every decision, for metrics and logs (never credentials). */
  decided?: (decision: ChainDecision) => void;
  /** The source failed: the default steps answer (0x88 where they pass), and this is told why. */
  sourceFailed?: (orgId: string, err: unknown) => void;
  /** The org of a CONNECT whose username names none (a device known by its client certificate alone). */
  orgOf?: (request: ConnectRequest) => string | null;
}

/**
 * Decides a CONNECT by the org's ordered steps (the org is the part of the
 * username after `@`). The first step that allows or denies decides; a step
 * that answers "not mine" hands over to the next; the end of the chain denies.
 * The org's chain is looked up once per cache period, so a CONNECT costs no
 * lookup beyond what its steps do themselves.
 */
export class AuthenticatorChain implements ConnectAuthenticator {
  private readonly steps = new Map<ChainStepName, ChainStep>();
  private readonly chains: LRUCache<string, readonly ChainStep[]>;
  private readonly inFlight = new Map<string, Promise<readonly ChainStep[]>>();
  private readonly defaultSteps: readonly ChainStep[];
  /**
   * While an org's chain cannot be read: the default steps, and where they pass,
   * 0x88 rather than "bad credentials" (the org's own chain might have allowed it).
   */
  private readonly unknownChainSteps: readonly ChainStep[];
  private epoch = 0;
  /** The steps that may ask to go first (see ChainStep.first). */
  private readonly gates: readonly ChainStep[];

  constructor(private readonly options: AuthenticatorChainOptions) {
    for (const step of options.steps) this.steps.set(step.name, step);
    this.gates = options.steps.filter((s) => s.first !== undefined);
    this.defaultSteps = this.resolve(DEFAULT_CHAIN);
    this.unknownChainSteps = [
      ...this.defaultSteps,
      { name: 'webhook', decide: () => ({ ok: false, reason: 'server_unavailable', detail: "the org's authenticator chain is unavailable" }) },
    ];
    this.chains = new LRUCache({ max: options.cacheSize ?? 10_000, ttl: options.cacheMs ?? 30_000, ttlResolution: 0 });
  }

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    const started = performance.now();
    const named = request.username ? (parseMqttUsername(request.username)?.orgId ?? null) : null;
    const orgId = named ?? this.options.orgOf?.(request) ?? null;
    const throttle = this.options.throttle;
    if (throttle?.enabled && throttle.throttled(request)) return this.throttled(request, orgId, started);
    if (orgId === null || !this.options.source) return this.run(this.ordered(this.defaultSteps, orgId), 0, request, orgId, undefined, started);
    const cached = this.chains.get(orgId);
    if (cached) return this.run(this.ordered(cached, orgId), 0, request, orgId, undefined, started);
    return this.load(orgId).then((steps) => this.run(this.ordered(steps, orgId), 0, request, orgId, undefined, started));
  }

  /** Forgets cached chains (all when no org is named): the org changed its chain. */
  invalidate(orgIds?: readonly string[]): void {
    this.epoch++;
    if (!orgIds) this.chains.clear();
    else for (const org of orgIds) this.chains.delete(org);
  }

  /** The steps of an org's chain as the edge runs them (for tests and the API's echo). */
  async chainOf(orgId: string): Promise<ChainStepName[]> {
    return (this.chains.get(orgId) ?? (await this.load(orgId))).map((s) => s.name);
  }

  /** A step that must go first for this org (a certificate that also needs a password) is moved to the front. */
  private ordered(steps: readonly ChainStep[], orgId: string | null): readonly ChainStep[] {
    for (const gate of this.gates) {
      const at = steps.indexOf(gate);
      if (at > 0 && gate.first!(orgId)) return [gate, ...steps.slice(0, at), ...steps.slice(at + 1)];
    }
    return steps;
  }

  private run(steps: readonly ChainStep[], from: number, request: ConnectRequest, orgId: string | null, check: Check, started: number): AuthResult | Promise<AuthResult> {
    for (let i = from; i < steps.length; i++) {
      const step = steps[i]!;
      const answer = step.decide(request, orgId);
      if (answer instanceof Promise) {
        return answer.then((a) => this.next(steps, i, request, orgId, check, a, started));
      }
      if (answer === NOT_MINE) continue;
      if ('check' in answer) return this.run(steps, i + 1, request, orgId, answer.check, started);
      return this.done(request, orgId, step, answer, check, started);
    }
    return this.done(request, orgId, END_OF_CHAIN, { ok: false, reason: 'bad_credentials', detail: 'no step of the chain accepted the credential' }, check, started);
  }

  private next(steps: readonly ChainStep[], i: number, request: ConnectRequest, orgId: string | null, check: Check, answer: StepAnswer, started: number): AuthResult | Promise<AuthResult> {
    if (answer === NOT_MINE) return this.run(steps, i + 1, request, orgId, check, started);
    if ('check' in answer) return this.run(steps, i + 1, request, orgId, answer.check, started);
    return this.done(request, orgId, steps[i]!, answer, check, started);
  }

  /** Only the local steps of the org's chain run; anything they do not allow is refused as throttled. */
  private async throttled(request: ConnectRequest, orgId: string | null, started: number): Promise<AuthResult> {
    const steps = orgId === null || !this.options.source ? this.defaultSteps : (this.chains.get(orgId) ?? (await this.load(orgId)));
    let check: Check;
    for (const step of this.ordered(steps, orgId)) {
      if (!step.local) continue;
      const answer = await step.decide(request, orgId);
      if (answer === NOT_MINE) continue;
      if ('check' in answer) check = answer.check;
      else if (answer.ok) return this.done(request, orgId, step, answer, check, started);
    }
    return this.done(request, orgId, THROTTLE, { ok: false, reason: 'server_unavailable', detail: 'too many failed CONNECTs from this address; throttled' }, undefined, started);
  }

  private done(request: ConnectRequest, orgId: string | null, by: Decider, decided: AuthResult, check: Check, started: number): AuthResult {
    const result = check ? check(decided) : decided;
    if (by !== THROTTLE && this.options.throttle?.enabled) this.options.throttle.record(request, result, by.local === true);
    this.options.decided?.({ orgId, step: by.name, result, request, durationMs: performance.now() - started });
    return result;
  }

  private load(orgId: string): Promise<readonly ChainStep[]> {
    let pending = this.inFlight.get(orgId);
    if (pending) return pending;
    const epoch = this.epoch;
    pending = this.options
      .source!.chainFor(orgId)
      .then(
        (names) => {
          const steps = names ? this.resolve(names) : this.defaultSteps;
          // A change that landed while we were asking must not be undone by the older answer.
          if (epoch === this.epoch) this.chains.set(orgId, steps);
          return steps;
        },
        (err: unknown) => {
          this.options.sourceFailed?.(orgId, err);
          return this.unknownChainSteps;
        },
      )
      .finally(() => this.inFlight.delete(orgId));
    this.inFlight.set(orgId, pending);
    return pending;
  }

  private resolve(names: readonly ChainStepName[]): ChainStep[] {
    return names.flatMap((n) => {
      const step = this.steps.get(n);
      return step ? [step] : [];
    });
  }
}

/** `sk_`/`rk_` by the first bytes, without decoding the password. */
export function isApiKeyPassword(p: Buffer | undefined): boolean {
  return !!p && p.length > 3 && p[2] === 0x5f /* _ */ && (p[0] === 0x73 /* s */ || p[0] === 0x72) /* r */ && p[1] === 0x6b /* k */;
}

/** `tkn_` by the first bytes. */
export function isTokenPassword(p: Buffer | undefined): boolean {
  return !!p && p.length > 4 && p[0] === 0x74 && p[1] === 0x6b && p[2] === 0x6e && p[3] === 0x5f;
}

/** A credential-kind authenticator as a chain step: other kinds of password are not its business. */
export function credentialStep(
  name: ChainStepName,
  authenticator: ConnectAuthenticator,
  mine: (password: Buffer | undefined) => boolean,
  local = false,
): ChainStep {
  return { name, local, decide: (request) => (mine(request.password) ? authenticator.authenticate(request) : NOT_MINE) };
}

export interface FailedConnectThrottleOptions {
  /** Failed CONNECTs an address may make per window before it is throttled; 0 disables. */
  maxFailures: number;
  windowMs: number;
  /** Addresses and known-good credentials remembered (least recently used go first). */
  size?: number;
  now?: () => number;
}

/**
 * Throttles failed CONNECTs per address, whatever the credential kind: past
 * `maxFailures` refusals for bad credentials in a window, the address's
 * CONNECTs are refused before any remote step runs (API key, webhook), until
 * the window ends. The attacker cannot lock out a victim behind the same
 * address (a NAT, a proxy): a credential accepted recently is let through, and
 * local steps (a `tkn_` signature, which no guess passes) still run.
 */
export class FailedConnectThrottle {
  private readonly failures: LRUCache<string, { count: number; since: number }>;
  /** SHA-256 of (username, password) of accepted CONNECTs; never the password itself. */
  private readonly goodDigests: LRUCache<string, true>;
  private readonly now: () => number;

  constructor(private readonly options: FailedConnectThrottleOptions) {
    this.now = options.now ?? Date.now;
    this.failures = new LRUCache({ max: options.size ?? 100_000 });
    this.goodDigests = new LRUCache({ max: options.size ?? 100_000, ttl: Math.max(options.windowMs, 3_600_000), perf: { now: this.now } });
  }

  get enabled(): boolean {
    return this.options.maxFailures > 0;
  }

  /** True when this CONNECT is refused without work. */
  throttled(request: ConnectRequest): boolean {
    const entry = this.failures.get(request.remoteAddress);
    if (!entry || entry.count < this.options.maxFailures) return false;
    if (this.now() - entry.since >= this.options.windowMs) {
      this.failures.delete(request.remoteAddress);
      return false;
    }
    return !this.goodDigests.has(digestOf(request));
  }

  /**
   * `local`: a local step decided. Its allow is not remembered: a throttled address still runs local steps
   * (AuthenticatorChain.throttled), so the entry would never be asked for, and a `tkn_` CONNECT pays no hash.
   */
  record(request: ConnectRequest, result: AuthResult, local: boolean): void {
    if (result.ok) {
      if (!local) this.goodDigests.set(digestOf(request), true);
      return;
    }
    if (result.reason !== 'bad_credentials') return;
    const nowMs = this.now();
    const entry = this.failures.get(request.remoteAddress);
    if (!entry || nowMs - entry.since >= this.options.windowMs) this.failures.set(request.remoteAddress, { count: 1, since: nowMs });
    else entry.count++;
  }
}

function digestOf(request: ConnectRequest): string {
  return createHash('sha256')
    .update(request.username ?? '')
    .update('\0')
    .update(request.password ?? Buffer.alloc(0))
    .digest('base64url');
}
