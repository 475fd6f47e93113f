import { Inject, Injectable } from '@nestjs/common';

import { invalidCursor } from '@signet/http';
import { decodeKeysetCursor, keysetPage } from '@signet/persistence';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredCa } from '../../certificates/certificate.repository';
import { certificateAuthorityNotFound } from '../../errors';
import type { ListCasCommand } from './list-cas.command';

/** GET /v1/certificate-authorities, newest first, a keyset page at a time. */
@Injectable()
export class ListCasUseCase {
  constructor(@Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository) {}

  async execute(command: ListCasCommand): Promise<{ authorities: StoredCa[]; nextCursor: string | null }> {
    const after = command.cursor === undefined ? null : decodeKeysetCursor(command.cursor);
    if (after === null && command.cursor !== undefined) throw invalidCursor();
    const rows = await this.certificates.listCas(command.orgId, command.limit + 1, after);
    const page = keysetPage(rows, command.limit, (c) => ({ at: c.createdAt, id: c.id }));
    return { authorities: page.items, nextCursor: page.nextCursor };
  }

  /** GET /v1/certificate-authorities/{id}. */
  async one(orgId: string, caId: string): Promise<StoredCa> {
    const ca = await this.certificates.findCa(orgId, caId);
    if (!ca) throw certificateAuthorityNotFound();
    return ca;
  }
}
