import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

import { PageQueryDto } from '@signet/http';
import type { SessionRecord } from '@signet/mqtt-cluster';

const CREDENTIAL_KINDS = ['token', 'api_key', 'certificate', 'webhook', 'ldap'];
const TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'];

export class ListSessionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only sessions of this user (for API keys: the service name)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user_id?: string;

  @ApiPropertyOptional({ description: 'Only the session of this MQTT client id' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_id?: string;
}

export class SessionDto {
  @ApiProperty({ example: 'device-7' })
  client_id!: string;

  @ApiProperty({ example: 'user_xyz', description: 'The user id of a token; the service name of an API key' })
  user_id!: string;

  @ApiProperty({ example: 'user_xyz@org_k7xm4pqr2n5t' })
  username!: string;

  @ApiProperty({ enum: CREDENTIAL_KINDS })
  credential_kind!: SessionRecord['credentialKind'];

  @ApiProperty({ example: 'tok_3f9a1c2b7d4e5f6a7b8c9d0e', description: 'What a revoke names: a token id, an API key id, …' })
  credential_id!: string;

  @ApiProperty({ example: 'edge-0', description: 'The edge that holds the connection (SIGNET_EDGE_ID)' })
  edge_id!: string;

  @ApiProperty({ example: '203.0.113.7' })
  address!: string;

  @ApiProperty({ enum: TRANSPORTS })
  transport!: SessionRecord['transport'];

  @ApiProperty({ enum: [3, 4, 5], description: 'MQTT protocol level: 4 (3.1.1) or 5 (5.0); 3 for a 3.1 client' })
  protocol_version!: number;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  connected_at!: string;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] })
  sessions!: SessionDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  next_cursor!: string | null;
}

export const toSessionDto = (s: SessionRecord): SessionDto => ({
  client_id: s.clientId,
  user_id: s.userId,
  username: s.username,
  credential_kind: s.credentialKind,
  credential_id: s.credentialId,
  edge_id: s.edgeId,
  address: s.address,
  transport: s.transport,
  protocol_version: s.protocolVersion,
  connected_at: new Date(s.connectedAt).toISOString(),
});
