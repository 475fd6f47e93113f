import type { AuditOutcome, AuditType } from '../../audit-event';

/** Who reads: the org, and the role when the caller is a signed-in person (null for an API key). */
export interface AuditReader {
  orgId: string;
  role: 'owner' | 'admin' | 'viewer' | null;
}

/** The filters every read of the audit log takes (GET /v1/audit and its export). */
export interface AuditQuery {
  reader: AuditReader;
  type?: AuditType;
  actorId?: string;
  action?: string;
  outcome?: AuditOutcome;
  /** ISO 8601. */
  since?: string;
  until?: string;
}

export interface ListAuditCommand extends AuditQuery {
  cursor?: string;
  limit?: number;
}
