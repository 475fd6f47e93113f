import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { RevocationPublisher } from '@signet/revocation';

import { CERTIFICATE_REPOSITORY, type CertificateRepository } from '../../certificates/certificate.repository';
import { certificateAuthorityNotFound } from '../../errors';
import { AuthWebhookChanges, notice } from '../../org-changes';
import type { DeleteCaCommand } from './delete-ca.command';

/**
 * DELETE /v1/certificate-authorities/{id}: the CA is revoked through the one
 * revocation path (its id names every certificate it issued), so every edge
 * closes their sessions (MQTT 5: DISCONNECT 0x98) and refuses them from then on.
 */
@Injectable()
export class DeleteCaUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: DeleteCaCommand): Promise<void> {
    await this.certificates.transaction(async (tx) => {
      const ca = await tx.lockCa(command.orgId, command.caId);
      if (!ca) throw certificateAuthorityNotFound();
      await tx.deleteCa(ca.id);
      // Nothing the CA issued verifies after it expires: the deny entry may go then.
      await this.publisher.record(tx.manager, notice(command.orgId, { credentialIds: [ca.id], until: ca.notAfter.getTime(), reason: 'certificate_authority_deleted' }));
    });
    this.changes.changed(command.orgId);
  }
}
