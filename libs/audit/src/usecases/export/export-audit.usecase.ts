import { Inject, Injectable } from '@nestjs/common';

import type { KeysetPosition } from '@signet/persistence';

import type { AuditEvent } from '../../audit-event';
import { AUDIT_REPOSITORY, type AuditFilter, type AuditRepository } from '../../audit.repository';
import { auditFilter } from '../list/list-audit.usecase';
import type { ExportAuditCommand } from './export-audit.command';

/** Rows read per query while streaming. */
const EXPORT_PAGE = 1000;

/**
 * GET /v1/audit/export: every matching event, newest first. The filters are
 * checked before the first byte (a bad one is still a problem document);
 * then the events are read page by page, as fast as the client reads them,
 * so an export of the whole log holds one page in memory.
 */
@Injectable()
export class ExportAuditUseCase {
  constructor(@Inject(AUDIT_REPOSITORY) private readonly events: AuditRepository) {}

  execute(command: ExportAuditCommand): AsyncIterable<AuditEvent> {
    return this.pages(auditFilter(command));
  }

  private async *pages(filter: AuditFilter): AsyncGenerator<AuditEvent> {
    let after: KeysetPosition | undefined;
    for (;;) {
      const rows = await this.events.list(filter, EXPORT_PAGE, after);
      yield* rows;
      if (rows.length < EXPORT_PAGE) return;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }
}
