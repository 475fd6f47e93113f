import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Put, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ScimError } from '../errors';
import { ScimOrg, ScimTokenGuard } from '../guards/scim-token.guard';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../options';
import { resourceTypes, schemas, serviceProviderConfig } from '../scim/scim-discovery';
import { listResponse } from '../scim/scim-list';
import { SCIM_CONTENT_TYPE, ScimResource } from '../scim/scim-resources';
import { ScimGroupsUseCase } from '../usecases/scim-groups/scim-groups.usecase';
import { ScimUsersUseCase } from '../usecases/scim-users/scim-users.usecase';
import { ScimErrorFilter } from './scim-error.filter';

type ScimQuery = { filter?: string; startIndex?: string; count?: string };

/**
 * SCIM 2.0 (RFC 7644) for Okta, Entra ID and other provisioning clients, with
 * the org's SCIM token. Bodies are application/scim+json (plain JSON accepted);
 * errors are SCIM error bodies. Not in the OpenAPI document: its contract is the RFC.
 */
@ApiExcludeController()
@UseFilters(ScimErrorFilter)
@UseGuards(ScimTokenGuard)
@Controller('scim/v2')
export class ScimController {
  constructor(
    private readonly users: ScimUsersUseCase,
    private readonly groups: ScimGroupsUseCase,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
  ) {}

  @Get('ServiceProviderConfig')
  serviceProviderConfig(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): ScimResource {
    return send(reply, serviceProviderConfig(baseUrl(req), this.options.scimMaxResults));
  }

  @Get('ResourceTypes')
  resourceTypes(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): ScimResource {
    const all = resourceTypes(baseUrl(req));
    return send(reply, listResponse(all.length, 1, all));
  }

  @Get('Schemas')
  schemas(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): ScimResource {
    const all = schemas(baseUrl(req));
    return send(reply, listResponse(all.length, 1, all));
  }

  @Get('Users')
  async listUsers(@ScimOrg() orgId: string, @Query() q: ScimQuery, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.list({ orgId, baseUrl: baseUrl(req), filter: q.filter, startIndex: q.startIndex, count: q.count }));
  }

  @Post('Users')
  @HttpCode(201)
  async createUser(@ScimOrg() orgId: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.create({ orgId, baseUrl: baseUrl(req), body }), true);
  }

  @Get('Users/:id')
  async getUser(@ScimOrg() orgId: string, @Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.get({ orgId, baseUrl: baseUrl(req), id }), true);
  }

  @Put('Users/:id')
  async replaceUser(
    @ScimOrg() orgId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.users.replace({ orgId, baseUrl: baseUrl(req), id, body, ifMatch }), true);
  }

  @Patch('Users/:id')
  async patchUser(
    @ScimOrg() orgId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.users.patch({ orgId, baseUrl: baseUrl(req), id, body, ifMatch }), true);
  }

  @Delete('Users/:id')
  @HttpCode(204)
  async deleteUser(@ScimOrg() orgId: string, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @Req() req: FastifyRequest) {
    await this.users.delete({ orgId, baseUrl: baseUrl(req), id, ifMatch });
  }

  @Get('Groups')
  async listGroups(@ScimOrg() orgId: string, @Query() q: ScimQuery, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.list({ orgId, baseUrl: baseUrl(req), filter: q.filter, startIndex: q.startIndex, count: q.count }));
  }

  @Post('Groups')
  @HttpCode(201)
  async createGroup(@ScimOrg() orgId: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.create({ orgId, baseUrl: baseUrl(req), body }), true);
  }

  @Get('Groups/:id')
  async getGroup(@ScimOrg() orgId: string, @Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.get({ orgId, baseUrl: baseUrl(req), id }), true);
  }

  @Put('Groups/:id')
  async replaceGroup(
    @ScimOrg() orgId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.groups.replace({ orgId, baseUrl: baseUrl(req), id, body, ifMatch }), true);
  }

  @Patch('Groups/:id')
  async patchGroup(
    @ScimOrg() orgId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.groups.patch({ orgId, baseUrl: baseUrl(req), id, body, ifMatch }), true);
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  async deleteGroup(@ScimOrg() orgId: string, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @Req() req: FastifyRequest) {
    await this.groups.delete({ orgId, baseUrl: baseUrl(req), id, ifMatch });
  }
}

/** Sets the SCIM media type, and the ETag of a single resource (RFC 7644 §3.14). */
function send(reply: FastifyReply, resource: ScimResource, withEtag = false): ScimResource {
  void reply.header('content-type', SCIM_CONTENT_TYPE);
  const version = (resource.meta as { version?: string } | undefined)?.version;
  if (withEtag && version) void reply.header('etag', version);
  return resource;
}

/** The `/scim/v2` URL as the IdP called it (behind trusted proxies, Fastify's `protocol`/`host` already reflect them). */
function baseUrl(req: FastifyRequest): string {
  if (typeof req.host !== 'string') throw new ScimError(400, 'a Host header is required');
  return `${req.protocol}://${req.host}/scim/v2`;
}
