import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { certificateSerialId } from '@signet/mqtt-auth';
import { RevocationPublisher } from '@signet/revocation';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredCa } from '../../certificates/certificate.repository';
import { MAX_PEM_BYTES, parseCaBundle } from '../../certificates/certificate-policy';
import { CrlError, parseCrl } from '../../certificates/crl';
import { certificateAuthorityNotFound, invalidCrl } from '../../errors';
import { AuthWebhookChanges, notice } from '../../org-changes';
import type { ImportCrlCommand } from './import-crl.command';

/** A CRL holds at most this many serials (the snapshot every edge holds grows with it). */
const MAX_CRL_SERIALS = 100_000;

/**
 * PUT /v1/certificate-authorities/{id}/crl: the CA's current CRL, replacing
 * the previous one (a newer one is the refresh). It must be signed by the CA
 * and not older than the one it replaces. Serials it adds are revoked
 * through the revocation path, so their live sessions close on every edge;
 * edges refuse every listed serial from their trust snapshot.
 */
@Injectable()
export class ImportCrlUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: ImportCrlCommand): Promise<StoredCa> {
    if (Buffer.byteLength(command.crl) > MAX_PEM_BYTES * 64) throw invalidCrl('crl is too large');
    let crl;
    try {
      crl = parseCrl(command.crl);
    } catch (err) {
      if (err instanceof CrlError) throw invalidCrl(err.message);
      throw err;
    }
    if (crl.serials.length > MAX_CRL_SERIALS) throw invalidCrl(`a CRL lists at most ${MAX_CRL_SERIALS} serials`);
    const saved = await this.certificates.transaction(async (tx) => {
      const ca = await tx.lockCa(command.orgId, command.caId);
      if (!ca) throw certificateAuthorityNotFound();
      const bundle = parseCaBundle(ca.pem, 0);
      if (typeof bundle === 'string' || !bundle.certificates.some((c) => crl.signedBy(c.publicKey))) {
        throw invalidCrl('the CRL is not signed by this CA');
      }
      if (ca.crlThisUpdate !== null && crl.thisUpdate.getTime() < ca.crlThisUpdate.getTime()) throw invalidCrl('the CRL is older than the one imported before');
      const known = new Set(ca.crlSerials);
      const added = crl.serials.filter((s) => !known.has(s));
      const updated = await tx.saveCrl(ca.id, { pem: crl.pem, serials: crl.serials, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate });
      await this.publisher.record(
        tx.manager,
        notice(command.orgId, { credentialIds: added.map((s) => certificateSerialId(ca.id, s)), until: ca.notAfter.getTime(), reason: 'certificate_crl_listed' }),
      );
      return updated;
    });
    this.changes.changed(command.orgId);
    return saved;
  }
}
