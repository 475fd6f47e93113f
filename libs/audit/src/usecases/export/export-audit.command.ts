import type { AuditQuery } from '../list/list-audit.command';

export type AuditExportFormat = 'ndjson' | 'csv';

export interface ExportAuditCommand extends AuditQuery {
  format: AuditExportFormat;
}
