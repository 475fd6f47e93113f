import { Inject, Injectable } from '@nestjs/common';

import { invalidCursor } from '@signet/http';
import { decodeKeysetCursor, keysetPage } from '@signet/persistence';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredClientCertificate } from '../../certificates/certificate.repository';
import { certificateAuthorityNotFound } from '../../errors';
import type { ListCertificatesCommand } from './list-certificates.command';

/** GET /v1/certificate-authorities/{id}/certificates: registered and revoked certificates, newest first. */
@Injectable()
export class ListCertificatesUseCase {
  constructor(@Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository) {}

  async execute(command: ListCertificatesCommand): Promise<{ certificates: StoredClientCertificate[]; nextCursor: string | null }> {
    const after = command.cursor === undefined ? null : decodeKeysetCursor(command.cursor);
    if (after === null && command.cursor !== undefined) throw invalidCursor();
    if (!(await this.certificates.findCa(command.orgId, command.caId))) throw certificateAuthorityNotFound();
    const rows = await this.certificates.listCertificates(command.caId, command.limit + 1, after);
    const page = keysetPage(rows, command.limit, (c) => ({ at: c.createdAt, id: c.id }));
    return { certificates: page.items, nextCursor: page.nextCursor };
  }
}
