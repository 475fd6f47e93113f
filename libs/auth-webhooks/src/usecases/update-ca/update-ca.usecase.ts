import { Inject, Injectable } from '@nestjs/common';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredCa } from '../../certificates/certificate.repository';
import { caNameProblem } from '../../certificates/certificate-policy';
import { certificateAuthorityNotFound, invalidCertificateAuthority } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { UpdateCaCommand } from './update-ca.command';

/**
 * PATCH /v1/certificate-authorities/{id}: its name, and whether any
 * certificate it issued connects or only registered ones. Narrowing to
 * registered ones refuses the others' next CONNECT; live sessions stay until
 * revoked.
 */
@Injectable()
export class UpdateCaUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: UpdateCaCommand): Promise<StoredCa> {
    const name = command.name?.trim();
    const nameProblem = name === undefined ? null : caNameProblem(name);
    if (nameProblem) throw invalidCertificateAuthority(nameProblem);
    const updated = await this.certificates.transaction(async (tx) => {
      if (!(await tx.lockCa(command.orgId, command.caId))) throw certificateAuthorityNotFound();
      return tx.updateCa(command.caId, { ...(name !== undefined ? { name } : {}), ...(command.allowAny !== undefined ? { allowAny: command.allowAny } : {}) });
    });
    await this.changes.announce(command.orgId);
    return updated;
  }
}
