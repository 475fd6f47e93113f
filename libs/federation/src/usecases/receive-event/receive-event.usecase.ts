import { Inject, Injectable, Optional } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';

import { AUDIT_RECORDER, type AuditRecorder } from '@signet/audit';
import { ProblemError } from '@signet/http';
import { LOGGER } from '@signet/observability';
import { SECRET_BOX } from '@signet/persistence';
import type { SecretBox } from '@signet/persistence';

import { eventIdReused, FEDERATION_ERRORS, invalidEvent, invalidLogoutToken, providerNotFound } from '../../errors';
import { IDP_EVENT_REPOSITORY, IdpEventAction, IdpEventRepository, IdpEventToApply } from '../../events/idp-events.repository';
import { eventsSecretContext } from '../../events/events-secret';
import { checkHeaderSecret, checkStandardWebhook, sha256Hex } from '../../events/signatures';
import { IDP_PROVIDER_ID, IDP_PROVIDER_REPOSITORY, IdpProviderRepository, StoredIdpProvider } from '../../idp-providers.repository';
import { loadedProvider } from '../../providers/provider';
import { VerifierCache } from '../../verification/verifier-cache';
import type { ReceiveIdpEventCommand, ReceivedIdpEvent } from './receive-event.command';

const MAX_ID_LENGTH = 256;

/**
 * An IdP says a session ended or a user is gone: authenticate the event
 * (events secret, Standard Webhooks signature or logout-token validation),
 * read what it names, and revoke the matching exchanged tokens (and their
 * refresh tokens) through RevocationPublisher, once per event id.
 */
@Injectable()
export class ReceiveIdpEventUseCase {
  private readonly log: Logger;

  constructor(
    @Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository,
    @Inject(IDP_EVENT_REPOSITORY) private readonly events: IdpEventRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(LOGGER) logger: Logger,
    private readonly verifiers: VerifierCache,
    @Optional() @Inject(AUDIT_RECORDER) private readonly audit?: AuditRecorder,
  ) {
    this.log = logger.child({ component: 'federation' });
  }

  async execute(command: ReceiveIdpEventCommand): Promise<ReceivedIdpEvent> {
    const stored = IDP_PROVIDER_ID.test(command.providerId) ? await this.providers.findById(command.providerId) : null;
    if (!stored) throw providerNotFound(command.providerId);
    let event: IdpEventToApply;
    try {
      event = { providerId: stored.id, orgId: stored.orgId, ...(await this.read(command, stored)) };
    } catch (err) {
      const code = err instanceof ProblemError ? err.code : 'error';
      this.log.info({ providerId: stored.id, source: command.source, code }, 'IdP event refused');
      throw err;
    }
    const applied = await this.events.apply(event);
    if (applied === 'reused') throw eventIdReused();
    this.log.info(
      { providerId: stored.id, orgId: stored.orgId, source: event.source, action: event.action.kind, eventId: event.eventId, revokedTokens: applied.revokedTokens, replayed: applied.replayed },
      'IdP event applied',
    );
    const target = event.action.kind === 'revoke_session' ? event.action.sessionId : event.action.kind === 'revoke_user' ? event.action.subject : null;
    this.audit?.record({
      type: 'admin', orgId: stored.orgId, actor: { kind: 'idp', id: stored.id }, action: `idp_events.${event.action.kind}`, target, outcome: 'success',
      details: { source: event.source, event_id: event.eventId, revoked_tokens: applied.revokedTokens, replayed: applied.replayed },
    });
    return { action: event.action.kind, revokedTokens: applied.revokedTokens, replayed: applied.replayed };
  }

  private async read(command: ReceiveIdpEventCommand, stored: StoredIdpProvider): Promise<Omit<IdpEventToApply, 'providerId' | 'orgId'>> {
    switch (command.source) {
      case 'supabase_webhook': {
        checkHeaderSecret(await this.secret(stored.id), command.authorization, command.headerSecret);
        const digest = sha256Hex(command.rawBody);
        // Database webhooks carry no event id: the body is the event, so an identical delivery is the same event.
        return { eventId: `sha256:${digest}`, digest, source: command.source, action: supabaseAction(command.body) };
      }
      case 'signed_call': {
        const eventId = checkStandardWebhook(
          await this.secret(stored.id),
          { id: command.webhookId, timestamp: command.webhookTimestamp, signature: command.webhookSignature },
          command.rawBody,
          Math.floor(Date.now() / 1000),
        );
        return { eventId, digest: sha256Hex(command.rawBody), source: command.source, action: signedCallAction(command.body) };
      }
      case 'backchannel_logout': {
        const provider = loadedProvider(this.secretBox, stored);
        if (provider.settings.audience === undefined) {
          throw new ProblemError(400, FEDERATION_ERRORS.logoutNotConfigured, 'set the provider audience to the client id the OP sends logout tokens to');
        }
        const token = command.logoutToken;
        if (typeof token !== 'string' || token.length === 0) throw invalidLogoutToken('the form parameter logout_token is required');
        let claims: JWTPayload;
        try {
          claims = await this.verifiers.logout(provider).verify(token);
        } catch (err) {
          // §2.8: a logout token that does not validate is 400; an unreachable IdP stays 503.
          if (err instanceof ProblemError && err.status === 401) throw invalidLogoutToken(err.detail);
          throw err;
        }
        const sid = typeof claims['sid'] === 'string' ? claims['sid'] : undefined;
        const sub = claims.sub;
        const action: IdpEventAction = sid !== undefined ? { kind: 'revoke_session', sessionId: checkId(sid, 'sid'), ...(sub ? { subject: sub } : {}) } : { kind: 'revoke_user', subject: checkId(sub!, 'sub') };
        return { eventId: claims.jti!, digest: sha256Hex(token), source: command.source, action };
      }
    }
  }

  private async secret(providerId: string): Promise<string | null> {
    const sealed = await this.events.eventsSecret(providerId);
    return sealed === null ? null : this.secretBox.open(sealed, eventsSecretContext(providerId));
  }
}

function checkId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) throw invalidEvent(`${name} must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  return value;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A Supabase database webhook on auth.users or auth.sessions: a deleted user,
 * a user banned (banned_until in the future) or soft-deleted (deleted_at set),
 * a deleted session. Any other change of those tables is acknowledged and ignored.
 */
export function supabaseAction(body: unknown): IdpEventAction {
  if (!isObject(body) || typeof body['type'] !== 'string' || typeof body['table'] !== 'string') {
    throw invalidEvent('expected a Supabase database webhook payload: { type, table, schema, record, old_record }');
  }
  const { type, table, schema } = body;
  if (schema !== undefined && schema !== 'auth') return { kind: 'ignored' };
  const record = isObject(body['record']) ? body['record'] : undefined;
  const old = isObject(body['old_record']) ? body['old_record'] : undefined;
  if (table === 'users') {
    if (type === 'DELETE') {
      if (!old) throw invalidEvent('a DELETE on auth.users needs old_record');
      return { kind: 'revoke_user', subject: checkId(old['id'], 'old_record.id') };
    }
    if (type === 'UPDATE') {
      if (!record) throw invalidEvent('an UPDATE on auth.users needs record');
      const bannedUntil = record['banned_until'];
      const banned = typeof bannedUntil === 'string' && Date.parse(bannedUntil) > Date.now();
      const deleted = typeof record['deleted_at'] === 'string';
      return banned || deleted ? { kind: 'revoke_user', subject: checkId(record['id'], 'record.id') } : { kind: 'ignored' };
    }
    return { kind: 'ignored' };
  }
  if (table === 'sessions' && type === 'DELETE') {
    if (!old) throw invalidEvent('a DELETE on auth.sessions needs old_record');
    const userId = old['user_id'];
    return { kind: 'revoke_session', sessionId: checkId(old['id'], 'old_record.id'), ...(typeof userId === 'string' ? { subject: userId } : {}) };
  }
  return { kind: 'ignored' };
}

/** The generic call: `{"type":"session.revoked","sid":…}` or `{"type":"user.revoked","sub":…}`. */
export function signedCallAction(body: unknown): IdpEventAction {
  if (!isObject(body)) throw invalidEvent('expected a JSON object { type, sid | sub }');
  if (body['type'] === 'session.revoked') return { kind: 'revoke_session', sessionId: checkId(body['sid'], 'sid') };
  if (body['type'] === 'user.revoked') return { kind: 'revoke_user', subject: checkId(body['sub'], 'sub') };
  throw invalidEvent('type must be session.revoked or user.revoked');
}
