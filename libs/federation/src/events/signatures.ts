import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { FEDERATION_ERRORS, invalidEventSignature } from '../errors';
import { ProblemError } from '@signet/http';

/**
 * Authentication of IdP events, pure functions. One secret per provider,
 * in the Standard Webhooks form `whsec_<base64 of 32 random bytes>`:
 * - Supabase database webhooks cannot sign, only send fixed headers: the
 *   secret itself is sent as `Authorization: Bearer whsec_…` and compared in
 *   constant time;
 * - the generic call is signed as Standard Webhooks specifies: HMAC-SHA256
 *   with the secret's decoded bytes over `{webhook-id}.{webhook-timestamp}.{body}`,
 *   sent as `webhook-signature: v1,<base64>` (several, space-separated, during
 *   a rotation), with the timestamp within {@link SIGNED_CALL_TOLERANCE_SECONDS}.
 */

export const EVENTS_SECRET_PREFIX = 'whsec_';
/** Standard Webhooks' recommended replay window. */
export const SIGNED_CALL_TOLERANCE_SECONDS = 5 * 60;

export const newEventsSecret = (): string => `${EVENTS_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith(EVENTS_SECRET_PREFIX) ? secret.slice(EVENTS_SECRET_PREFIX.length) : secret, 'base64');
}

/** Constant time over digests, so neither the length nor a prefix of the secret leaks. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** `Authorization: Bearer <secret>` (or the bare secret in `x-signet-events-secret`) against the provider's secret. */
export function checkHeaderSecret(secret: string | null, authorization: string | undefined, headerSecret: string | undefined): void {
  const sent = headerSecret ?? (authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined);
  if (secret === null) throw invalidEventSignature('this provider has no events secret; create one with POST /v1/idp-providers/{id}/events-secret');
  if (sent === undefined || sent.length === 0) throw invalidEventSignature('send the events secret as Authorization: Bearer whsec_…');
  if (!sameSecret(sent, secret)) throw invalidEventSignature('the events secret does not match');
}

export function standardWebhookSignature(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  return `v1,${createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

export interface SignedCallHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Standard Webhooks verification of the raw body; returns the webhook id. */
export function checkStandardWebhook(secret: string | null, headers: SignedCallHeaders, body: Buffer, nowSeconds: number): string {
  if (secret === null) throw invalidEventSignature('this provider has no events secret; create one with POST /v1/idp-providers/{id}/events-secret');
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) throw invalidEventSignature('webhook-id, webhook-timestamp and webhook-signature are required');
  if (id.length > 256) throw invalidEventSignature('webhook-id is longer than 256 characters');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > SIGNED_CALL_TOLERANCE_SECONDS) {
    throw new ProblemError(401, FEDERATION_ERRORS.eventTimestampOutOfRange, `webhook-timestamp must be within ${SIGNED_CALL_TOLERANCE_SECONDS} s of now (Unix seconds)`);
  }
  const expected = Buffer.from(standardWebhookSignature(secret, id, timestamp, body));
  const matches = signature.split(' ').some((candidate) => {
    const sent = Buffer.from(candidate);
    return sent.length === expected.length && timingSafeEqual(sent, expected);
  });
  if (!matches) throw invalidEventSignature('no webhook-signature matches the body');
  return id;
}
