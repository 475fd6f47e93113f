import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

import { CERTIFICATE_IDENTITY_SOURCES, type CertificateRule } from '@signet/contracts';
import { MergePatch } from '@signet/http';

import type { StoredCa, StoredClientCertificate } from '../certificates/certificate.repository';

/* Wire shapes (snake_case) of /v1/certificate-authorities and /v1/certificate-settings. Types only; meanings are the use cases'. */

const PEM_LIMIT = 64 * 1024;

export class UploadCaDto {
  @ApiProperty({ example: 'factory CA' })
  @IsString()
  @MaxLength(200)
  name!: string;

  @ApiProperty({ description: 'PEM bundle: the CA certificate and any intermediates (CA:TRUE, not expired)' })
  @IsString()
  @MaxLength(PEM_LIMIT)
  pem!: string;

  @ApiPropertyOptional({ description: 'Any certificate the CA issued connects (default true); false: only registered ones' })
  @IsOptional()
  @IsBoolean()
  allow_any?: boolean;
}

@MergePatch()
export class UpdateCaDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  allow_any?: boolean;
}

export class CrlDto {
  @ApiProperty({ description: 'PEM CRL (-----BEGIN X509 CRL-----) signed by the CA' })
  @IsString()
  @MaxLength(PEM_LIMIT * 64)
  crl!: string;
}

export class RegisterCertificateDto {
  @ApiProperty({ description: 'PEM of one certificate the CA issued' })
  @IsString()
  @MaxLength(PEM_LIMIT)
  pem!: string;
}

export class RevokeCertificateDto {
  @ApiPropertyOptional({ description: 'Serial, hexadecimal (as `openssl x509 -serial` prints it)', example: '1A2B' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  serial?: string;

  @ApiPropertyOptional({ description: 'SHA-256 fingerprint, hexadecimal (colons allowed)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  fingerprint?: string;
}

export class CertificateRuleBodyDto {
  @ApiProperty({ enum: CERTIFICATE_IDENTITY_SOURCES, description: 'What names the device: its CN, first SAN of a kind, or the SHA-256 fingerprint' })
  @IsIn(CERTIFICATE_IDENTITY_SOURCES)
  identity!: string;

  @ApiProperty({ type: [String], example: ['devices/{cert_cn}/#'], description: 'Templates: {user_id} (the identity), {org_id}, {client_id}, {cert_cn}' })
  @IsArray()
  @IsString({ each: true })
  publish!: string[];

  @ApiProperty({ type: [String], example: ['devices/{cert_cn}/#'] })
  @IsArray()
  @IsString({ each: true })
  subscribe!: string[];

  @ApiPropertyOptional({ description: 'A password credential (tkn_, API key, webhook) of the same identity must come with the certificate (default false)' })
  @IsOptional()
  @IsBoolean()
  require_password?: boolean;
}

export class CertificateRuleDto {
  @ApiProperty({ enum: CERTIFICATE_IDENTITY_SOURCES }) identity!: string;
  @ApiProperty({ type: [String] }) publish!: string[];
  @ApiProperty({ type: [String] }) subscribe!: string[];
  @ApiProperty() require_password!: boolean;
  @ApiProperty({ description: 'True while the org has not set a rule' }) is_default!: boolean;
}

export class CaDto {
  @ApiProperty({ example: 'ca_k7xm4pqr2n5t' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Subject of the bundle’s first certificate' }) subject!: string;
  @ApiProperty({ description: 'SHA-256 of the bundle’s first certificate, hex' }) fingerprint!: string;
  @ApiProperty() not_after!: string;
  @ApiProperty() allow_any!: boolean;
  @ApiProperty() pem!: string;
  @ApiProperty({ type: Object, nullable: true, description: 'The imported CRL: its times and how many serials it lists' })
  crl!: { this_update: string; next_update: string | null; revoked: number } | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class CaListDto {
  @ApiProperty({ type: [CaDto] }) certificate_authorities!: CaDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class ClientCertificateDto {
  @ApiProperty({ example: 'crt_k7xm4pqr2n5t' }) id!: string;
  @ApiProperty() ca_id!: string;
  @ApiProperty({ enum: ['registered', 'revoked'] }) status!: string;
  @ApiProperty({ type: String, nullable: true }) fingerprint!: string | null;
  @ApiProperty({ type: String, nullable: true }) serial!: string | null;
  @ApiProperty({ type: String, nullable: true }) subject!: string | null;
  @ApiProperty({ type: String, nullable: true }) not_after!: string | null;
  @ApiProperty({ type: String, nullable: true }) revoked_at!: string | null;
  @ApiProperty() created_at!: string;
}

export class ClientCertificateListDto {
  @ApiProperty({ type: [ClientCertificateDto] }) certificates!: ClientCertificateDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export const toCaResponse = (ca: StoredCa): CaDto => ({
  id: ca.id,
  name: ca.name,
  subject: ca.subject,
  fingerprint: ca.fingerprint,
  not_after: ca.notAfter.toISOString(),
  allow_any: ca.allowAny,
  pem: ca.pem,
  crl: ca.crlThisUpdate
    ? { this_update: ca.crlThisUpdate.toISOString(), next_update: ca.crlNextUpdate?.toISOString() ?? null, revoked: ca.crlSerials.length }
    : null,
  created_at: ca.createdAt.toISOString(),
  updated_at: ca.updatedAt.toISOString(),
});

export const toClientCertificateResponse = (c: StoredClientCertificate): ClientCertificateDto => ({
  id: c.id,
  ca_id: c.caId,
  status: c.status,
  fingerprint: c.fingerprint,
  serial: c.serial,
  subject: c.subject,
  not_after: c.notAfter?.toISOString() ?? null,
  revoked_at: c.revokedAt?.toISOString() ?? null,
  created_at: c.createdAt.toISOString(),
});

export const toRuleResponse = ({ rule, isDefault }: { rule: Omit<CertificateRule, 'orgId'>; isDefault: boolean }): CertificateRuleDto => ({
  identity: rule.identity,
  publish: rule.publish,
  subscribe: rule.subscribe,
  require_password: rule.requirePassword,
  is_default: isDefault,
});
