import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks secrets: `whsec_` + base64 of the HMAC key. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret, 'base64');
}

/** One `v1,<base64>` signature: HMAC-SHA256 of `id.timestamp.body` (Standard Webhooks). */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-*` headers of one call, signed with every active secret (two during a rotation), space-separated. */
export function webhookHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' '),
  };
}

export type WebhookVerifyFailure = 'missing_headers' | 'timestamp_out_of_tolerance' | 'no_matching_signature';

/**
 * What a receiver does (also documented with vectors in docs/auth-webhooks.md):
 * the headers are present, the timestamp is within `toleranceSeconds` of now,
 * and one of the space-separated `v1,` signatures matches.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): { ok: true } | { ok: false; error: WebhookVerifyFailure } {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !ts || !sigs) return { ok: false, error: 'missing_headers' };
  const t = Number(ts);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, error: 'timestamp_out_of_tolerance' };
  const expected = Buffer.from(signWebhook(secret, id, t, body).slice(3), 'base64');
  for (const sig of sigs.split(' ')) {
    const [version, value] = sig.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, error: 'no_matching_signature' };
}
