import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { API_KEY_PREFIX, mqttUsername } from '@signet/credentials';
import { Idempotent } from '@signet/http';

import type { StoredApiKey } from '../api-keys.repository';
import { ApiKeyGuard, CurrentApiKey, RequireScopes } from '../guards/api-key.guard';
import type { ApiKeyPrincipal } from '../principal';
import { CreateKeyUseCase } from '../usecases/create/create-key.usecase';
import { GetKeyUseCase } from '../usecases/get/get-key.usecase';
import { ListKeysUseCase } from '../usecases/list/list-keys.usecase';
import { RevokeKeyUseCase } from '../usecases/revoke/revoke-key.usecase';
import { RotateKeyUseCase } from '../usecases/rotate/rotate-key.usecase';
import { KeyUsageUseCase, UsageCounts } from '../usecases/usage/key-usage.usecase';
import { CreatedKeyDto, CreateKeyDto, KeyDto, KeyListDto, ListKeysQueryDto, RotatedKeyDto, RotateKeyDto, UsageDto, UsageQueryDto } from './dto';

export const KEY_SCOPES = { read: 'keys:read', write: 'keys:write' } as const;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toKeyDto(row: StoredApiKey, now = Date.now()): KeyDto {
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

const countsDto = (b: UsageCounts) => ({
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
    private readonly createKey: CreateKeyUseCase,
    private readonly listKeys: ListKeysUseCase,
    private readonly getKey: GetKeyUseCase,
    private readonly rotateKey: RotateKeyUseCase,
    private readonly revokeKey: RevokeKeyUseCase,
    private readonly keyUsage: KeyUsageUseCase,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireScopes(KEY_SCOPES.write)
  @Idempotent()
  @ApiOperation({ summary: 'Create an API key', description: 'The key is in the answer this once. A restricted key can only create keys within its own rights.' })
  @ApiCreatedResponse({ type: CreatedKeyDto })
  async create(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: CreateKeyDto): Promise<CreatedKeyDto> {
    const { key, apiKey } = await this.createKey.execute({
      caller,
      name: body.name,
      type: body.type,
      scopes: body.scopes,
      ipAllowlist: body.ip_allowlist,
      expiresAt: body.expires_at,
    });
    return { ...toKeyDto(key), key: apiKey };
  }

  @Get()
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: "List your org's keys (masked), newest first" })
  @ApiOkResponse({ type: KeyListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListKeysQueryDto): Promise<KeyListDto> {
    const { keys, nextCursor } = await this.listKeys.execute({ caller, limit: query.limit ?? 50, cursor: query.cursor });
    return { keys: keys.map((k) => toKeyDto(k)), next_cursor: nextCursor };
  }

  @Get(':id')
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: 'One key (masked), with last_used_at' })
  @ApiOkResponse({ type: KeyDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<KeyDto> {
    return toKeyDto(await this.getKey.execute({ caller, keyId: id }));
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
    const { key, apiKey, previous } = await this.rotateKey.execute({ caller, keyId: id, graceSeconds: body?.grace_seconds });
    return { ...toKeyDto(key), key: apiKey, previous: toKeyDto(previous) };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes(KEY_SCOPES.write)
  @ApiOperation({ summary: 'Revoke a key at once', description: 'Idempotent. Its live MQTT sessions are closed.' })
  @ApiNoContentResponse()
  async revoke(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<void> {
    await this.revokeKey.execute({ caller, keyId: id });
  }

  @Get(':id/usage')
  @RequireScopes(KEY_SCOPES.read)
  @ApiOperation({ summary: 'Usage per hour or day (UTC): API calls, MQTT connects, messages and bytes published, denials' })
  @ApiOkResponse({ type: UsageDto })
  async usageOf(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Query() query: UsageQueryDto): Promise<UsageDto> {
    const usage = await this.keyUsage.execute({ caller, keyId: id, from: query.from, to: query.to, interval: query.interval ?? 'hour' });
    return {
      key_id: usage.keyId,
      interval: usage.interval,
      from: new Date(usage.from).toISOString(),
      to: new Date(usage.to).toISOString(),
      buckets: usage.buckets.map((b) => ({ start: new Date(b.start).toISOString(), ...countsDto(b) })),
      totals: countsDto(usage.totals),
    };
  }
}
