import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { DATA_SOURCE, IdpEventEntity, IdpProviderEntity, inTransaction, RefreshTokenEntity } from '@signet/persistence';
import { RevocationPublisher } from '@signet/revocation';
import { latest, revokeLiveTokens } from '@signet/tokens';

/** Why tokens were revoked by an IdP event; recorded with the revocation and published as is. */
export const IDP_REVOCATION_REASONS = {
  session: 'idp_session_ended',
  user: 'idp_user_revoked',
} as const;

export type IdpEventSource = 'supabase_webhook' | 'backchannel_logout' | 'signed_call';

/** What an event asks for: the tokens of one IdP session, of one IdP user, or nothing (an event Signet does not act on). */
export type IdpEventAction = { kind: 'revoke_session'; sessionId: string; subject?: string } | { kind: 'revoke_user'; subject: string } | { kind: 'ignored' };

export interface IdpEventToApply {
  providerId: string;
  orgId: string;
  /** The IdP's id for the event, unique per provider. */
  eventId: string;
  /** SHA-256 (hex) of the event as received. */
  digest: string;
  source: IdpEventSource;
  action: IdpEventAction;
}

export interface AppliedIdpEvent {
  revokedTokens: number;
  /** The same event was applied before; its first result is returned. */
  replayed: boolean;
}

/** The SQL of IdP events: the events secret of a provider, and applying an event (audit row + revocation) in one transaction. */
export interface IdpEventRepository {
  /** The sealed events secret of a provider, or null. */
  eventsSecret(providerId: string): Promise<string | null>;
  setEventsSecret(providerId: string, ciphertext: string): Promise<void>;
  /** Records the event and revokes what it names, once: a replay returns the first result; the same id with another digest is `reused`. */
  apply(event: IdpEventToApply): Promise<AppliedIdpEvent | 'reused'>;
}

export const IDP_EVENT_REPOSITORY = Symbol('IDP_EVENT_REPOSITORY');

@Injectable()
export class TypeOrmIdpEventRepository implements IdpEventRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  async eventsSecret(providerId: string): Promise<string | null> {
    const row = await this.dataSource.getRepository(IdpProviderEntity).findOne({ where: { id: providerId }, select: { id: true, eventsSecretCiphertext: true } });
    return row?.eventsSecretCiphertext ?? null;
  }

  async setEventsSecret(providerId: string, ciphertext: string): Promise<void> {
    // Not through the provider's update: its updated_at versions the verifiers, which this secret does not affect.
    await this.dataSource.createQueryBuilder().update(IdpProviderEntity).set({ eventsSecretCiphertext: ciphertext, updatedAt: () => 'updated_at' }).where('id = :providerId', { providerId }).execute();
  }

  apply(event: IdpEventToApply): Promise<AppliedIdpEvent | 'reused'> {
    return inTransaction(this.dataSource, async (m) => {
      const inserted = await m
        .createQueryBuilder()
        .insert()
        .into(IdpEventEntity)
        .values({
          providerId: event.providerId,
          eventId: event.eventId,
          digest: event.digest,
          orgId: event.orgId,
          source: event.source,
          action: event.action.kind,
          idpSubject: event.action.kind === 'ignored' ? null : (event.action.subject ?? null),
          idpSessionId: event.action.kind === 'revoke_session' ? event.action.sessionId : null,
          revokedTokens: 0,
        })
        .orIgnore()
        .returning(['eventId'])
        .execute();
      if ((inserted.raw as unknown[]).length === 0) {
        const seen = await m.findOneByOrFail(IdpEventEntity, { providerId: event.providerId, eventId: event.eventId });
        return seen.digest === event.digest ? { revokedTokens: seen.revokedTokens, replayed: true } : 'reused';
      }
      const revokedTokens = await this.revoke(m, event);
      if (revokedTokens > 0) await m.update(IdpEventEntity, { providerId: event.providerId, eventId: event.eventId }, { revokedTokens });
      return { revokedTokens, replayed: false };
    });
  }

  /** Every family that holds a token of the session (or user) loses its refresh tokens and live tokens, refreshed ones included. */
  private async revoke(m: EntityManager, event: IdpEventToApply): Promise<number> {
    const { action } = event;
    if (action.kind === 'ignored') return 0;
    const params: Record<string, string> = { orgId: event.orgId, providerId: event.providerId };
    let match: string;
    if (action.kind === 'revoke_session') {
      params.sessionId = action.sessionId;
      match = 'idp_session_id = :sessionId';
    } else {
      params.subject = action.subject;
      match = 'idp_subject = :subject';
    }
    const families = `family_id IN (SELECT family_id FROM issued_tokens WHERE org_id = :orgId AND idp_provider_id = :providerId AND ${match})`;
    const reason = action.kind === 'revoke_session' ? IDP_REVOCATION_REASONS.session : IDP_REVOCATION_REASONS.user;
    // Lock order as everywhere tokens are revoked: refresh_tokens rows first, then issued_tokens rows.
    await m
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where(`org_id = :orgId AND revoked_at IS NULL AND used_at IS NULL AND ${families}`, params)
      .execute();
    const revoked = await revokeLiveTokens(m, `org_id = :orgId AND ${families}`, params, reason);
    await this.revocations.record(m, { credentialIds: revoked.map((t) => t.id), until: latest(revoked), reason, orgId: event.orgId });
    return revoked.length;
  }
}
