import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { httpsUrlProblem } from '@signet/net';

import { invalidSsoSettings, ssoNotConfigured } from '../../errors';
import { SsoClient } from '../../sso/sso-client';
import { SSO_REPOSITORY, SsoConnection, SsoRepository } from '../../sso/sso.repository';
import type { ConfigureSsoCommand } from './configure-sso.command';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SSO_ROLES = ['admin', 'viewer'] as const;

/**
 * Creates or replaces the org's SSO provider. The issuer's discovery is fetched before anything is
 * saved, so a wrong issuer is a 422 `sso_discovery_failed` now rather than a broken sign-in page later.
 * The client secret is sealed with the master key.
 */
@Injectable()
export class ConfigureSsoUseCase {
  constructor(
    @Inject(SSO_REPOSITORY) private readonly sso: SsoRepository,
    private readonly client: SsoClient,
  ) {}

  async execute(command: ConfigureSsoCommand): Promise<SsoConnection> {
    const issuer = command.issuer.replace(/\/+$/, '');
    const urlProblem = httpsUrlProblem(issuer);
    if (urlProblem) throw invalidSsoSettings(`issuer ${urlProblem}`);
    const allowedDomains = [...new Set(command.allowedDomains.map((d) => d.trim().toLowerCase()))];
    if (allowedDomains.length === 0) throw invalidSsoSettings('allowed_domains needs at least one e-mail domain');
    const bad = allowedDomains.find((d) => !DOMAIN.test(d));
    if (bad !== undefined) throw invalidSsoSettings(`allowed_domains: ${JSON.stringify(bad)} is not a domain name`);
    if (command.defaultRole !== null && !(SSO_ROLES as readonly string[]).includes(command.defaultRole)) {
      throw invalidSsoSettings('default_role is admin, viewer, or null (existing accounts only); owners are never made by SSO');
    }
    const existing = await this.sso.findByOrg(command.orgId);
    const id = existing?.id ?? `sso_${randomBytes(9).toString('base64url')}`;
    await this.client.configuration({ id, issuer, clientId: command.clientId, clientSecret: command.clientSecret, updatedAt: new Date() });
    const saved = await this.sso.save(command.orgId, {
      id,
      name: command.name,
      issuer,
      clientId: command.clientId,
      clientSecret: command.clientSecret,
      allowedDomains,
      defaultRole: command.defaultRole as SsoConnection['defaultRole'],
      linkByEmail: command.linkByEmail,
    });
    if (!saved) throw ssoNotConfigured();
    return saved;
  }
}
