import { randomBase36, randomHex } from './random';

/** `org_` + 12 lowercase base36 characters. */
export const ORG_ID_PATTERN = /^org_[0-9a-z]{12}$/;
export const TOKEN_ID_PATTERN = /^tok_[0-9a-f]{24}$/;
export const MAX_USER_ID_LENGTH = 128;

export const newOrgId = (): string => `org_${randomBase36(12)}`;
export const newTokenId = (): string => `tok_${randomHex(12)}`;
export const isOrgId = (value: string): boolean => ORG_ID_PATTERN.test(value);

/**
 * Why a user id is unusable, or null. A user id fills `{user_id}` in topic
 * permissions, so it must not be able to widen a filter: no `/`, `+`, `#`,
 * no leading `$`, no control characters or spaces; bounded length.
 */
export function userIdProblem(userId: unknown): string | null {
  if (typeof userId !== 'string' || userId.length === 0) return 'must be a non-empty string';
  if (userId.length > MAX_USER_ID_LENGTH) return `must be at most ${MAX_USER_ID_LENGTH} characters`;
  if (/[/+#]/.test(userId)) return "must not contain '/', '+' or '#'";
  if (userId.startsWith('$')) return "must not start with '$'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(userId)) return 'must not contain spaces or control characters';
  // A lone surrogate has no UTF-8 form: neither PostgreSQL nor an MQTT username could carry it.
  if (/\p{Cs}/u.test(userId)) return 'must be well-formed Unicode';
  return null;
}

/** MQTT username of a credential: `<user_id>@<org_id>` (or `<service>@<org_id>` for keys). */
export const mqttUsername = (subject: string, orgId: string): string => `${subject}@${orgId}`;

/** Splits on the last `@`, so user ids that are e-mail addresses still work. */
export function parseMqttUsername(username: string): { subject: string; orgId: string } | null {
  const at = username.lastIndexOf('@');
  if (at <= 0) return null;
  const orgId = username.slice(at + 1);
  return isOrgId(orgId) ? { subject: username.slice(0, at), orgId } : null;
}
