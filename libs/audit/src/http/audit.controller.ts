import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

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
  async export(@Req() request: ApiKeyRequest, @Res() reply: FastifyReply, @Query() query: ExportAuditQueryDto): Promise<void> {
    const format = query.format ?? 'ndjson';
    // A viewer, a bad range or the database failing on the first page is still a problem document.
    const events = await startedStream(this.exportAudit.execute({ ...filters(request, query), format }));
    const lines = format === 'csv' ? csvLines(events) : ndjsonLines(events);
    // Taken over from Fastify: an export of the whole log may outlast SIGNET_REQUEST_TIMEOUT_MS, whose
    // 503 must not be appended to a stream already under way (a hijacked reply counts as sent).
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="audit.${format}"`,
    });
    // A failure half-way (the database gone, the client gone) cuts the stream: the client sees it end early.
    await pipeline(Readable.from(lines), reply.raw).catch(() => reply.raw.destroy());
  }
}

function filters(request: ApiKeyRequest, query: ExportAuditQueryDto | ListAuditQueryDto) {
  const reader: AuditReader = { orgId: request.apiKey!.orgId, role: request.session?.role ?? null };
  return { reader, type: query.type, actorId: query.actor_id, action: query.action, outcome: query.outcome, since: query.since, until: query.until };
}

/** Reads the first item now, so that its failure happens before the response starts. */
async function startedStream<T>(items: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
}

async function* ndjsonLines(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  for await (const e of events) yield `${JSON.stringify(toAuditEventDto(e))}\n`;
}

async function* csvLines(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const e of events) yield csvLine(toAuditEventDto(e));
}
