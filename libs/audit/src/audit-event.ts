import { randomBytes } from 'node:crypto';

export const AUDIT_TYPES = ['admin', 'auth'] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];
export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * Who acted. Administrative: `api_key` (id = key id), `account` (id = account id), `system` (the first
 * start), `idp` (id = provider id), `directory`. CONNECT decisions: the credential kind (`token`,
 * `api_key`, `webhook`, …) with id = the user or service, or `unknown` when the CONNECT was refused
 * before a credential was recognised.
 */
export interface AuditActor {
  kind: string;
  id: string | null;
}

/**
 * What a library hands the recorder: ids, codes and numbers only, never a secret or a body.
 * `details` holds small extra facts (HTTP status, role, CONNECT client id, the count of an aggregated row).
 */
export interface AuditEventInput {
  type: AuditType;
  orgId: string | null;
  actor: AuditActor;
  /** A stable name: `keys.create`, `tokens.revoke`, `mqtt.connect`, … */
  action: string;
  target?: string | null;
  outcome: AuditOutcome;
  /** Default: now. */
  at?: Date;
  address?: string | null;
  edgeId?: string | null;
  /** The problem code of a failed call, the refusal of a CONNECT (`bad_credentials`, …) or `success`. */
  reasonCode?: string | null;
  durationMs?: number | null;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
}

/** A stored event (ids are `aud_` + 24 hex). */
export interface AuditEvent extends Required<Omit<AuditEventInput, 'at'>> {
  id: string;
  at: Date;
}

/**
 * What other libraries inject (by {@link AUDIT_RECORDER}) to record an event. `record` returns at once
 * and never throws: events are buffered and written in batches after the caller's work; a failure to
 * write is logged and counted (`signet_audit_dropped_total`), never raised to the caller.
 */
export interface AuditRecorder {
  record(event: AuditEventInput): void;
  recordMany(events: readonly AuditEventInput[]): void;
}

export const AUDIT_RECORDER = Symbol('AUDIT_RECORDER');

/** For a process composed without the audit feature. */
export const NO_AUDIT: AuditRecorder = { record: () => undefined, recordMany: () => undefined };

export const newAuditEventId = (): string => `aud_${randomBytes(12).toString('hex')}`;

/** Fills the defaults and cuts strings to their column widths: a long username must not fail a batch. */
export function completeEvent(input: AuditEventInput): AuditEvent {
  return {
    id: newAuditEventId(),
    at: input.at ?? new Date(),
    type: input.type,
    orgId: cut(input.orgId, 32),
    actor: { kind: cut(input.actor.kind, 16) ?? 'unknown', id: cut(input.actor.id, 256) },
    action: cut(input.action, 64) ?? 'unknown',
    target: cut(input.target, 256),
    outcome: input.outcome,
    address: cut(input.address, 64),
    edgeId: cut(input.edgeId, 128),
    reasonCode: cut(input.reasonCode, 64),
    durationMs: input.durationMs ?? null,
    requestId: cut(input.requestId, 128),
    details: input.details ?? null,
  };
}

function cut(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  return value.length > max ? value.slice(0, max) : value;
}
