import { Inject, Injectable } from '@nestjs/common';

import type { CertificateIdentitySource, CertificateRule } from '@signet/contracts';
import { DEFAULT_CERTIFICATE_RULE } from '@signet/mqtt-auth';

import { CERTIFICATE_REPOSITORY, type CertificateRepository } from '../../certificates/certificate.repository';
import { certificateRuleProblem } from '../../certificates/certificate-policy';
import { invalidCertificateRule, orgOfKeyGone } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { SetCertificateRuleCommand } from './certificate-rule.command';

/**
 * GET and PUT /v1/certificate-settings: how the org's verified certificates
 * map to an identity and permissions, and whether a password must come with
 * them. Applies to CONNECTs from the change on; live sessions keep theirs.
 */
@Injectable()
export class CertificateRuleUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async get(orgId: string): Promise<{ rule: CertificateRule; isDefault: boolean }> {
    const rule = await this.certificates.findRule(orgId);
    return rule ? { rule, isDefault: false } : { rule: { ...DEFAULT_CERTIFICATE_RULE, orgId }, isDefault: true };
  }

  async set(command: SetCertificateRuleCommand): Promise<{ rule: CertificateRule; isDefault: boolean }> {
    const problem = certificateRuleProblem(command);
    if (problem) throw invalidCertificateRule(problem);
    const saved = await this.certificates.saveRule({
      orgId: command.orgId,
      identity: command.identity as CertificateIdentitySource,
      publish: command.publish,
      subscribe: command.subscribe,
      requirePassword: command.requirePassword,
    });
    if (!saved) throw orgOfKeyGone();
    await this.changes.announce(command.orgId);
    return { rule: saved, isDefault: false };
  }
}
