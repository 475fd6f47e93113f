import { Readable } from 'node:stream';

import { Controller, Get, Query, Req, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, type ApiKeyRequest, KEY_ERRORS, RequireScopes } from '@signet/api-keys';
import { ApiProblems, HTTP_ERRORS } from '@signet/http';

import type { AuditEvent } from '../audit-event';
import { AUDIT_ERRORS } from '../errors';
import { ExportAuditUseCase } from '../usecases/export/export-audit.usecase';
import type { AuditReader } from '../usecases/list/list-audit.command';
import { ListAuditUseCase } from '../usecases/list/list-audit.usecase';
import { AuditPageDto, CSV_COLUMNS, csvLine, ExportAuditQueryDto, ListAuditQueryDto, toAuditEventDto } from './dto';

/** Scope a restricted (`rk_`) key needs; `sk_` keys have it. */
export const AUDIT_SCOPES = { read: 'audit:read' } as const;

const READ_PROBLEMS = { 400: [AUDIT_ERRORS.invalidTimeRange, HTTP_ERRORS.validationFailed], 403: [KEY_ERRORS.insufficientScope] };

@ApiTags('audit')
@Controller('v1/audit')
@UseGuards(ApiKeyGuard)
@RequireScopes(AUDIT_SCOPES.read)
@ApiBearerAuth()
export class AuditController {
  constructor(
    private readonly listAudit: ListAuditUseCase,
    private readonly exportAudit: ExportAuditUseCase,
  ) {}

  @Get()
  @ApiOperation({ summary: "The org's audit log, newest first", description: 'Administrative actions and MQTT CONNECT decisions. Owners, admins and API keys with audit:read; not viewers.' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems({ ...READ_PROBLEMS, 400: [...READ_PROBLEMS[400], HTTP_ERRORS.invalidCursor] })
  async list(@Req() request: ApiKeyRequest, @Query() query: ListAuditQueryDto): Promise<AuditPageDto> {
    const page = await this.listAudit.execute({ ...filters(request, query), cursor: query.cursor, limit: query.limit });
    return { events: page.events.map(toAuditEventDto), next_cursor: page.nextCursor };
  }

  @Get('export')
  @ApiOperation({ summary: 'Every matching event, streamed', description: 'NDJSON (one event per line, as in the list) or CSV with a header row; newest first.' })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'The events', schema: { type: 'string' } })
  @ApiProblems(READ_PROBLEMS)
  export(@Req() request: ApiKeyRequest, @Query() query: ExportAuditQueryDto): StreamableFile {
    const format = query.format ?? 'ndjson';
    const events = this.exportAudit.execute({ ...filters(request, query), format });
    const lines = format === 'csv' ? csvLines(events) : ndjsonLines(events);
    return new StreamableFile(Readable.from(lines), {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      disposition: `attachment; filename="audit.${format}"`,
    });
  }
}

function filters(request: ApiKeyRequest, query: ExportAuditQueryDto | ListAuditQueryDto) {
  const reader: AuditReader = { orgId: request.apiKey!.orgId, role: request.session?.role ?? null };
  return { reader, type: query.type, actorId: query.actor_id, action: query.action, outcome: query.outcome, since: query.since, until: query.until };
}

async function* ndjsonLines(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  for await (const e of events) yield `${JSON.stringify(toAuditEventDto(e))}\n`;
}

async function* csvLines(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const e of events) yield csvLine(toAuditEventDto(e));
}
