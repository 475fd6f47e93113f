import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';
import { PageQueryDto } from '@signet/http';

import { CertificateRuleUseCase } from '../usecases/certificate-rule/certificate-rule.usecase';
import { DeleteCaUseCase } from '../usecases/delete-ca/delete-ca.usecase';
import { ImportCrlUseCase } from '../usecases/import-crl/import-crl.usecase';
import { ListCasUseCase } from '../usecases/list-cas/list-cas.usecase';
import { ListCertificatesUseCase } from '../usecases/list-certificates/list-certificates.usecase';
import { RegisterCertificateUseCase } from '../usecases/register-certificate/register-certificate.usecase';
import { RevokeCertificateUseCase } from '../usecases/revoke-certificate/revoke-certificate.usecase';
import { UpdateCaUseCase } from '../usecases/update-ca/update-ca.usecase';
import { UploadCaUseCase } from '../usecases/upload-ca/upload-ca.usecase';
import { AUTH_WEBHOOK_SCOPES } from './auth-webhook.controller';
import {
  CaDto,
  CaListDto,
  CertificateRuleBodyDto,
  CertificateRuleDto,
  ClientCertificateDto,
  ClientCertificateListDto,
  CrlDto,
  RegisterCertificateDto,
  RevokeCertificateDto,
  toCaResponse,
  toClientCertificateResponse,
  toRuleResponse,
  UpdateCaDto,
  UploadCaDto,
} from './certificate-dto';

const DEFAULT_PAGE = 50;

@ApiTags('mtls')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/certificate-authorities')
export class CertificateAuthorityController {
  constructor(
    private readonly upload: UploadCaUseCase,
    private readonly list: ListCasUseCase,
    private readonly update: UpdateCaUseCase,
    private readonly remove: DeleteCaUseCase,
    private readonly importCrl: ImportCrlUseCase,
    private readonly registerCertificate: RegisterCertificateUseCase,
    private readonly listCertificates: ListCertificatesUseCase,
    private readonly revokeCertificate: RevokeCertificateUseCase,
  ) {}

  @Post()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'Trust a CA for client certificates', description: 'Edges ask for client certificates and verify them against it from the next handshake, without a restart.' })
  @ApiCreatedResponse({ type: CaDto })
  async create(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: UploadCaDto): Promise<CaDto> {
    return toCaResponse(await this.upload.execute({ orgId: caller.orgId, name: body.name, pem: body.pem, allowAny: body.allow_any ?? true }));
  }

  @Get()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: CaListDto })
  async all(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: PageQueryDto): Promise<CaListDto> {
    const page = await this.list.execute({ orgId: caller.orgId, limit: query.limit ?? DEFAULT_PAGE, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) });
    return { certificate_authorities: page.authorities.map(toCaResponse), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: CaDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<CaDto> {
    return toCaResponse(await this.list.one(caller.orgId, id));
  }

  @Patch(':id')
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOkResponse({ type: CaDto })
  async patch(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: UpdateCaDto): Promise<CaDto> {
    return toCaResponse(
      await this.update.execute({
        orgId: caller.orgId,
        caId: id,
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.allow_any !== undefined ? { allowAny: body.allow_any } : {}),
      }),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'Stop trusting a CA', description: 'Every edge closes the sessions of the certificates it issued (MQTT 5: DISCONNECT 0x98).' })
  async delete(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<void> {
    await this.remove.execute({ orgId: caller.orgId, caId: id });
  }

  @Put(':id/crl')
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: "Import (or refresh) the CA's CRL", description: 'Newly listed serials are revoked on every edge; a CRL older than the current one is refused.' })
  @ApiOkResponse({ type: CaDto })
  async crl(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: CrlDto): Promise<CaDto> {
    return toCaResponse(await this.importCrl.execute({ orgId: caller.orgId, caId: id, crl: body.crl }));
  }

  @Post(':id/certificates')
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'Register a certificate the CA issued', description: 'For a CA with allow_any false, only registered certificates connect.' })
  @ApiCreatedResponse({ type: ClientCertificateDto })
  async register(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: RegisterCertificateDto): Promise<ClientCertificateDto> {
    return toClientCertificateResponse(await this.registerCertificate.execute({ orgId: caller.orgId, caId: id, pem: body.pem }));
  }

  @Get(':id/certificates')
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: ClientCertificateListDto })
  async certificates(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Query() query: PageQueryDto): Promise<ClientCertificateListDto> {
    const page = await this.listCertificates.execute({
      orgId: caller.orgId,
      caId: id,
      limit: query.limit ?? DEFAULT_PAGE,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    return { certificates: page.certificates.map(toClientCertificateResponse), next_cursor: page.nextCursor };
  }

  @Post(':id/revocations')
  @HttpCode(200)
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'Revoke a certificate by serial or fingerprint', description: 'Every edge closes its sessions (MQTT 5: DISCONNECT 0x98) and refuses it from then on.' })
  @ApiOkResponse({ type: ClientCertificateListDto })
  async revoke(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: RevokeCertificateDto): Promise<ClientCertificateListDto> {
    const rows = await this.revokeCertificate.execute({
      orgId: caller.orgId,
      caId: id,
      ...(body.serial !== undefined ? { serial: body.serial } : {}),
      ...(body.fingerprint !== undefined ? { fingerprint: body.fingerprint } : {}),
    });
    return { certificates: rows.map(toClientCertificateResponse), next_cursor: null };
  }
}

@ApiTags('mtls')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/certificate-settings')
export class CertificateSettingsController {
  constructor(private readonly rules: CertificateRuleUseCase) {}

  @Get()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: CertificateRuleDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<CertificateRuleDto> {
    return toRuleResponse(await this.rules.get(caller.orgId));
  }

  @Put()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'How certificates map to an identity and permissions', description: 'Applies to CONNECTs from now on.' })
  @ApiOkResponse({ type: CertificateRuleDto })
  async put(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: CertificateRuleBodyDto): Promise<CertificateRuleDto> {
    return toRuleResponse(
      await this.rules.set({ orgId: caller.orgId, identity: body.identity, publish: body.publish, subscribe: body.subscribe, requirePassword: body.require_password ?? false }),
    );
  }
}
