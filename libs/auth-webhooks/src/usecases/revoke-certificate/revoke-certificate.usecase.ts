import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { randomBase36 } from '@signet/credentials';
import { certificateCredentialId, certificateSerialId } from '@signet/mqtt-auth';
import { RevocationPublisher } from '@signet/revocation';

import { CERTIFICATE_REPOSITORY, type CertificateRepository, type StoredClientCertificate } from '../../certificates/certificate.repository';
import { normalizeFingerprint, normalizeRevocationSerial } from '../../certificates/certificate-policy';
import { certificateAuthorityNotFound, invalidCertificateRevocation } from '../../errors';
import { AuthWebhookChanges, notice } from '../../org-changes';
import type { RevokeCertificateCommand } from './revoke-certificate.command';

/**
 * POST /v1/certificate-authorities/{id}/revocations: a certificate by serial
 * or SHA-256 fingerprint, registered or not. Revoked through the one
 * revocation path: every edge closes its sessions (MQTT 5: DISCONNECT 0x98)
 * and refuses it from then on (the deny list at once, the trust snapshot for good).
 */
@Injectable()
export class RevokeCertificateUseCase {
  constructor(
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: RevokeCertificateCommand): Promise<StoredClientCertificate[]> {
    if ((command.serial === undefined) === (command.fingerprint === undefined)) throw invalidCertificateRevocation('give exactly one of serial and fingerprint');
    const serial = command.serial === undefined ? undefined : normalizeRevocationSerial(command.serial);
    const fingerprint = command.fingerprint === undefined ? undefined : normalizeFingerprint(command.fingerprint);
    if (serial === null) throw invalidCertificateRevocation('serial: hexadecimal, at most 40 digits');
    if (fingerprint === null) throw invalidCertificateRevocation('fingerprint: SHA-256, 64 hexadecimal digits');
    const revoked = await this.certificates.transaction(async (tx) => {
      const ca = await tx.lockCa(command.orgId, command.caId);
      if (!ca) throw certificateAuthorityNotFound();
      const rows = await tx.revoke(ca.id, ca.orgId, serial !== undefined ? { serial } : { fingerprint: fingerprint! }, `crt_${randomBase36(12)}`);
      // Every name the certificate is known by on the edges: its serial and its fingerprint, when known.
      const ids = new Set<string>();
      for (const r of rows) {
        if (r.serial) ids.add(certificateSerialId(ca.id, r.serial));
        if (r.fingerprint) ids.add(certificateCredentialId(r.fingerprint));
      }
      await this.publisher.record(tx.manager, notice(command.orgId, { credentialIds: [...ids], until: ca.notAfter.getTime(), reason: 'certificate_revoked' }));
      return rows;
    });
    this.changes.changed(command.orgId);
    return revoked;
  }
}
