import { Inject, Injectable } from '@nestjs/common';

import { randomBase36 } from '@signet/credentials';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredCa } from '../../certificates/certificate.repository';
import { caNameProblem, parseCaBundle } from '../../certificates/certificate-policy';
import { certificateAuthorityExists, invalidCertificateAuthority, orgOfKeyGone } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { UploadCaCommand } from './upload-ca.command';

/** POST /v1/certificate-authorities: edges trust the bundle for new handshakes as soon as they hear of it. */
@Injectable()
export class UploadCaUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: UploadCaCommand): Promise<StoredCa> {
    const bundle = parseCaBundle(command.pem, Date.now());
    if (typeof bundle === 'string') throw invalidCertificateAuthority(bundle);
    const name = command.name.trim();
    const nameProblem = caNameProblem(name);
    if (nameProblem) throw invalidCertificateAuthority(nameProblem);
    const saved = await this.certificates.insertCa({
      id: `ca_${randomBase36(12)}`,
      orgId: command.orgId,
      name,
      pem: bundle.pem,
      fingerprint: bundle.fingerprint,
      subject: bundle.subject,
      notAfter: bundle.notAfter,
      allowAny: command.allowAny,
    });
    if (saved === 'exists') throw certificateAuthorityExists();
    if (saved === null) throw orgOfKeyGone();
    await this.changes.announce(command.orgId);
    return saved;
  }
}
