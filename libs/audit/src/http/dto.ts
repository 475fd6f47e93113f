import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { AUDIT_OUTCOMES, AUDIT_TYPES, type AuditEvent, type AuditOutcome, type AuditType } from '../audit-event';
import type { AuditExportFormat } from '../usecases/export/export-audit.command';

export const AUDIT_EXPORT_FORMATS: readonly AuditExportFormat[] = ['ndjson', 'csv'];

/** The filters of the list and of the export. */
export class AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_TYPES, description: 'admin: API calls and IdP/directory/bootstrap events; auth: MQTT CONNECT decisions' })
  @IsOptional()
  @IsIn(AUDIT_TYPES)
  type?: AuditType;

  @ApiPropertyOptional({ description: 'An API key id, an account id, or (auth events) a user id' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor_id?: string;

  @ApiPropertyOptional({ example: 'keys.create' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class ListAuditQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class ExportAuditQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_EXPORT_FORMATS, default: 'ndjson' })
  @IsOptional()
  @IsIn(AUDIT_EXPORT_FORMATS)
  format?: AuditExportFormat;
}

export class AuditActorDto {
  @ApiProperty({ example: 'api_key', description: 'api_key, account, system, idp, directory; for auth events the credential kind (token, api_key, …) or unknown' })
  kind!: string;

  @ApiProperty({ type: String, nullable: true, example: 'key_3f9a1c2b7d4e' })
  id!: string | null;
}

export class AuditEventDto {
  @ApiProperty({ example: 'aud_5c1e0f8a9b2d4c6e7f801234' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ enum: AUDIT_TYPES })
  type!: AuditType;

  @ApiProperty({ type: AuditActorDto })
  actor!: AuditActorDto;

  @ApiProperty({ example: 'keys.create' })
  action!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The id of what was acted on (key, token, user, provider…); for auth events the credential id' })
  target!: string | null;

  @ApiProperty({ enum: AUDIT_OUTCOMES })
  outcome!: AuditOutcome;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  address!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The MQTT edge that decided (auth events)' })
  edge_id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The problem code of a failed call; the CONNECT outcome (success, bad_credentials, …)' })
  reason_code!: string | null;

  @ApiProperty({ type: Number, nullable: true })
  duration_ms!: number | null;

  @ApiProperty({ type: String, nullable: true })
  request_id!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Small extra facts: HTTP method, route, status and role; CONNECT username, client id, step, CONNACK code; `count` when the row aggregates a flood',
  })
  details!: Record<string, unknown> | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] })
  events!: AuditEventDto[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor!: string | null;
}

export function toAuditEventDto(e: AuditEvent): AuditEventDto {
  return {
    id: e.id,
    at: e.at.toISOString(),
    type: e.type,
    actor: { kind: e.actor.kind, id: e.actor.id },
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    address: e.address,
    edge_id: e.edgeId,
    reason_code: e.reasonCode,
    duration_ms: e.durationMs,
    request_id: e.requestId,
    details: e.details,
  };
}

export const CSV_COLUMNS = ['id', 'at', 'type', 'actor_kind', 'actor_id', 'action', 'target', 'outcome', 'address', 'edge_id', 'reason_code', 'duration_ms', 'request_id', 'details'] as const;

export function csvLine(e: AuditEventDto): string {
  const cells = [e.id, e.at, e.type, e.actor.kind, e.actor.id, e.action, e.target, e.outcome, e.address, e.edge_id, e.reason_code, e.duration_ms, e.request_id, e.details === null ? null : JSON.stringify(e.details)];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula (usernames come from anyone) is prefixed with '. */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
