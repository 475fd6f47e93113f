import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { API_KEY_PREFIX, mqttUsername } from '@signet/credentials';
import { badRequest } from '@signet/http';
import type { ApiKeyEntity } from '@signet/persistence';

import { ApiKeyGuard, CurrentApiKey, RequireScopes } from './api-key.guard';
import { CreatedKeyDto, CreateKeyDto, KeyDto, KeyListDto, ListKeysQueryDto, RotatedKeyDto, RotateKeyDto, UsageDto, UsageQueryDto } from './dto';
import { KeysService } from './keys.service';
import type { ApiKeyPrincipal } from './principal';
import { DAY_MS, UsageBucket, UsageService } from './usage.service';

export const KEY_SCOPES = { read: 'keys:read', write: 'keys:write' } as const;
/** Bounds what one usage answer may hold. */
export const MAX_USAGE_BUCKETS = 24 * 31;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toKeyDto(row: ApiKeyEntity, now = Date.now()): KeyDto {
  const status = row.revokedAt !== null ? 'revoked' : row.expiresAt !== null && row.expiresAt.getTime() <= now ? 'expired' : 'active';
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    masked_key: `${API_KEY_PREFIX[row.type]}${row.id}_****`,
    scopes: row.scopes,
    ip_allowlist: row.ipAllowlist,
    status,
    mqtt_username: mqttUsername(row.name, row.orgId),
    created_at: row.createdAt.toISOString(),
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked_at: iso(row.revokedAt),
    rotated_from: row.rotatedFrom,
    replaced_by: row.replacedBy,
  };
}

function parseInstant(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw badRequest('invalid_range', `${name} must be an ISO 8601 date-time`);
  return t;
}

const bucketDto = (b: Omit<UsageBucket, 'start'>) => ({
  api_calls: b.apiCalls,
  mqtt_connects: b.mqttConnects,
  messages_published: b.messagesPublished,
  bytes_published: b.bytesPublished,
  denials: b.denials,
});

@ApiTags('keys')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/keys')
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly usage: UsageService,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireScopes(KEY_SCOPES.write)
  @ApiOperation({ summary: 'Create an API key', description: 'The key is in the answer this once. A restricted key can only create keys within its own rights.' })
  @ApiCreatedResponse({ type: CreatedKeyDto })
  async create(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: CreateKeyDto): Promise<CreatedKeyDto> {
    const { row, apiKey } = await this.keys.create(caller, {
      name: body.name,
      type: body.type,
      scopes: body.scopes,
      ipAllowlist: body.ip_allowlist,
      expiresAt: body.expires_at,
    });
    return { ...toKeyDto(row), key: apiKey };
  }

  @Get()
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: "List your org's keys (masked), newest first" })
  @ApiOkResponse({ type: KeyListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListKeysQueryDto): Promise<KeyListDto> {
    const { rows, nextCursor } = await this.keys.list(caller, query.limit ?? 50, query.cursor);
    return { keys: rows.map((r) => toKeyDto(r)), next_cursor: nextCursor };
  }

  @Get(':id')
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: 'One key (masked), with last_used_at' })
  @ApiOkResponse({ type: KeyDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<KeyDto> {
    return toKeyDto(await this.keys.get(caller, id));
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @RequireScopes(KEY_SCOPES.write)
  @ApiOperation({
    summary: 'Rotate a key',
    description: 'Returns a new key (shown once) with the same name, type, scopes and allowlist. The old key works until grace_seconds have passed, then is refused everywhere and its MQTT sessions are closed.',
  })
  @ApiCreatedResponse({ type: RotatedKeyDto })
  async rotate(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: RotateKeyDto = {}): Promise<RotatedKeyDto> {
    const { row, apiKey, previous } = await this.keys.rotate(caller, id, body?.grace_seconds);
    return { ...toKeyDto(row), key: apiKey, previous: toKeyDto(previous) };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes(KEY_SCOPES.write)
  @ApiOperation({ summary: 'Revoke a key at once', description: 'Idempotent. Its live MQTT sessions are closed.' })
  @ApiNoContentResponse()
  async revoke(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(caller, id);
  }

  @Get(':id/usage')
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: 'Usage per hour or day (UTC): API calls, MQTT connects, messages and bytes published, denials' })
  @ApiOkResponse({ type: UsageDto })
  async usageOf(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Query() query: UsageQueryDto): Promise<UsageDto> {
    const interval = query.interval ?? 'hour';
    const to = parseInstant(query.to, 'to', Date.now());
    const from = parseInstant(query.from, 'from', to - DAY_MS);
    if (from >= to) throw badRequest('invalid_range', 'from must be before to');
    const step = interval === 'hour' ? 3_600_000 : DAY_MS;
    if ((to - from) / step > MAX_USAGE_BUCKETS) {
      throw badRequest('range_too_large', `at most ${MAX_USAGE_BUCKETS} ${interval}s per request`, { max_buckets: MAX_USAGE_BUCKETS });
    }
    const key = await this.keys.get(caller, id);
    const buckets = await this.usage.query(key.id, from, to, interval);
    const totals = buckets.reduce(
      (t, b) => ({
        apiCalls: t.apiCalls + b.apiCalls,
        mqttConnects: t.mqttConnects + b.mqttConnects,
        messagesPublished: t.messagesPublished + b.messagesPublished,
        bytesPublished: t.bytesPublished + b.bytesPublished,
        denials: t.denials + b.denials,
      }),
      { apiCalls: 0, mqttConnects: 0, messagesPublished: 0, bytesPublished: 0, denials: 0 },
    );
    return {
      key_id: key.id,
      interval,
      from: new Date(buckets[0]?.start ?? from).toISOString(),
      to: new Date((buckets[buckets.length - 1]?.start ?? to - step) + step).toISOString(),
      buckets: buckets.map((b) => ({ start: new Date(b.start).toISOString(), ...bucketDto(b) })),
      totals: bucketDto(totals),
    };
  }
}
