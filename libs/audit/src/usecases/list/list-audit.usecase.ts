import { Inject, Injectable } from '@nestjs/common';

import { insufficientScope } from '@signet/api-keys';
import { keysetRequest } from '@signet/http';
import { keysetPage } from '@signet/persistence';

import type { AuditEvent } from '../../audit-event';
import { AUDIT_REPOSITORY, type AuditFilter, type AuditRepository } from '../../audit.repository';
import { invalidTimeRange } from '../../errors';
import type { AuditQuery, ListAuditCommand } from './list-audit.command';

export interface AuditPage {
  events: AuditEvent[];
  /** Null on the last page. */
  nextCursor: string | null;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

/** GET /v1/audit: the org's events newest first, keyset-paginated on (at, id). Owners, admins and API keys read; viewers do not. */
@Injectable()
export class ListAuditUseCase {
  constructor(@Inject(AUDIT_REPOSITORY) private readonly events: AuditRepository) {}

  async execute(command: ListAuditCommand): Promise<AuditPage> {
    const filter = auditFilter(command);
    const { limit, after } = keysetRequest(command.limit, command.cursor, { fallback: DEFAULT_PAGE, max: MAX_PAGE });
    const rows = await this.events.list(filter, limit + 1, after);
    const page = keysetPage(rows, limit, (e) => ({ at: e.at, id: e.id }));
    return { events: page.items, nextCursor: page.nextCursor };
  }
}

/** The one check of who may read and what a query means, for the list and the export alike. */
export function auditFilter(query: AuditQuery): AuditFilter {
  if (query.reader.role === 'viewer') throw insufficientScope('the audit log is for owners and admins; a viewer cannot read it');
  const since = query.since === undefined ? undefined : new Date(query.since);
  const until = query.until === undefined ? undefined : new Date(query.until);
  if (since && until && since.getTime() >= until.getTime()) throw invalidTimeRange();
  return {
    orgId: query.reader.orgId,
    ...(query.type ? { type: query.type } : {}),
    ...(query.actorId ? { actorId: query.actorId } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.outcome ? { outcome: query.outcome } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}
