import type { Registry } from 'prom-client';

import { counter } from './audit-buffer';
import type { AuditEventInput } from './audit-event';

/** One CONNECT decision of an edge's authenticator chain, as the edge reports it (never the password). */
export interface ConnectDecision {
  orgId: string | null;
  username: string | undefined;
  clientId: string;
  address: string;
  protocolVersion: number;
  transport?: string;
  /** The chain step that decided (`token`, `api_key`, `end_of_chain`, `throttle`, …). */
  step: string;
  ok: boolean;
  /** `success`, or the refusal (`bad_credentials`, `not_authorized`, `server_unavailable`). */
  reason: string;
  /** The CONNACK code the client gets for it (3.1.1 return code or 5.0 reason code). */
  connack: number;
  /** Known when allowed: the credential and whom it names. */
  credentialKind?: string;
  credentialId?: string;
  subject?: string;
  durationMs: number;
}

export interface ConnectSamplerOptions {
  edgeId: string;
  /** Decisions per (address, outcome) per window recorded one by one; the rest are aggregated. */
  perAddress: number;
  windowMs: number;
  /** (address, outcome) pairs and aggregates tracked per window; beyond, decisions are dropped and counted. */
  maxKeys?: number;
  emit: (event: AuditEventInput) => void;
  registry?: Registry;
  now?: () => number;
}

interface Aggregate {
  first: ConnectDecision;
  firstAt: number;
  lastAt: number;
  count: number;
  totalMs: number;
  maxMs: number;
}

const MAX_TEXT = 256;

/**
 * Turns CONNECT decisions into audit events without letting a flood fill the
 * log: per window, the first `perAddress` decisions of an address with one
 * outcome are recorded as they are, and the rest become one row per (address,
 * outcome, org, reason) carrying `details.count` (with the window's first and
 * last time and the mean and max duration), written when the window ends. A
 * flood of N refusals from one address is thus at most `perAddress` + a few
 * rows per window whatever N, and memory is bounded by `maxKeys`. O(1) per
 * decision, no I/O: the edge's hot path only touches two Maps.
 */
export class ConnectAuditSampler {
  private seen = new Map<string, number>();
  private aggregates = new Map<string, Aggregate>();
  private windowStart: number;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly dropped;

  constructor(private readonly options: ConnectSamplerOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 50_000;
    this.windowStart = this.now();
    this.dropped = counter(options.registry, 'signet_audit_dropped_total', 'Audit events dropped (buffer full or write failed)', ['sink', 'reason']);
    // Aggregates are written when their window ends even if no decision comes after it.
    this.timer = setInterval(() => this.roll(), Math.max(50, Math.floor(options.windowMs / 4)));
    this.timer.unref();
  }

  record(decision: ConnectDecision): void {
    this.roll();
    const key = `${decision.ok ? 1 : 0}|${decision.address}`;
    const previous = this.seen.get(key);
    if (previous === undefined && this.seen.size >= this.maxKeys) {
      this.dropped.inc({ sink: 'connect_sampler', reason: 'too_many_addresses' });
      return;
    }
    const n = (previous ?? 0) + 1;
    this.seen.set(key, n);
    if (n <= this.options.perAddress) {
      this.options.emit(this.toEvent(decision, null));
      return;
    }
    const aggregateKey = `${key}|${decision.orgId ?? ''}|${decision.reason}`;
    let aggregate = this.aggregates.get(aggregateKey);
    if (!aggregate) {
      if (this.aggregates.size >= this.maxKeys) {
        this.dropped.inc({ sink: 'connect_sampler', reason: 'too_many_addresses' });
        return;
      }
      const at = this.now();
      aggregate = { first: decision, firstAt: at, lastAt: at, count: 0, totalMs: 0, maxMs: 0 };
      this.aggregates.set(aggregateKey, aggregate);
    }
    aggregate.count++;
    aggregate.lastAt = this.now();
    aggregate.totalMs += decision.durationMs;
    aggregate.maxMs = Math.max(aggregate.maxMs, decision.durationMs);
  }

  /** Writes the aggregates of the current window now (at close). */
  flush(): void {
    for (const aggregate of this.aggregates.values()) this.options.emit(this.toEvent(aggregate.first, aggregate));
    this.aggregates.clear();
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < this.options.windowMs) return;
    this.flush();
    this.seen.clear();
    this.windowStart = now;
  }

  private toEvent(d: ConnectDecision, aggregate: Aggregate | null): AuditEventInput {
    const details: Record<string, unknown> = {
      username: text(d.username),
      client_id: text(d.clientId),
      step: d.step,
      connack: d.connack,
      protocol_version: d.protocolVersion,
      ...(d.transport ? { transport: d.transport } : {}),
    };
    if (aggregate) {
      Object.assign(details, {
        count: aggregate.count,
        first_at: new Date(aggregate.firstAt).toISOString(),
        last_at: new Date(aggregate.lastAt).toISOString(),
        max_duration_ms: round(aggregate.maxMs),
      });
    }
    return {
      type: 'auth',
      orgId: d.orgId,
      actor: { kind: d.credentialKind ?? 'unknown', id: d.subject ?? userOf(d.username) },
      action: 'mqtt.connect',
      target: d.credentialId ?? null,
      outcome: d.ok ? 'success' : 'failure',
      at: aggregate ? new Date(aggregate.lastAt) : new Date(this.now()),
      address: d.address,
      edgeId: this.options.edgeId,
      reasonCode: d.reason,
      durationMs: round(aggregate ? aggregate.totalMs / aggregate.count : d.durationMs),
      details,
    };
  }
}

/** The user part of `<user>@<org>` (split on the last `@`), or the username as it is. */
function userOf(username: string | undefined): string | null {
  if (!username) return null;
  const at = username.lastIndexOf('@');
  return text(at > 0 ? username.slice(0, at) : username);
}

const text = (value: string | undefined): string | null => (value === undefined ? null : value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value);
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
