import { Inject, Injectable } from '@nestjs/common';

import { randomBase36 } from '@signet/credentials';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredClientCertificate } from '../../certificates/certificate.repository';
import { parseCaBundle, parseIssuedCertificate } from '../../certificates/certificate-policy';
import { certificateAuthorityNotFound, certificateExists, invalidCertificate } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { RegisterCertificateCommand } from './register-certificate.command';

/** POST /v1/certificate-authorities/{id}/certificates: one certificate the CA issued, for a CA that allows registered ones only. */
@Injectable()
export class RegisterCertificateUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: RegisterCertificateCommand): Promise<StoredClientCertificate> {
    const saved = await this.certificates.transaction(async (tx) => {
      const ca = await tx.lockCa(command.orgId, command.caId);
      if (!ca) throw certificateAuthorityNotFound();
      const bundle = parseCaBundle(ca.pem, 0);
      if (typeof bundle === 'string') throw invalidCertificate(bundle);
      const facts = parseIssuedCertificate(command.pem, bundle);
      if (typeof facts === 'string') throw invalidCertificate(facts);
      const row = await tx.register({ id: `crt_${randomBase36(12)}`, caId: ca.id, ...facts });
      if (!row) throw certificateExists();
      return row;
    });
    await this.changes.announce(command.orgId);
    return saved;
  }
}
