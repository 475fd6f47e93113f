import { invalidApiKey } from '@signet/api-keys';
import { badRequest, notFound, ProblemError } from '@signet/http';

/** The auth-webhook feature's problem codes, each written once here. */
export const AUTH_WEBHOOK_ERRORS = {
  invalidWebhookUrl: 'invalid_webhook_url',
  webhookNotFound: 'webhook_not_found',
  invalidChain: 'invalid_authenticator_chain',
  invalidUserId: 'invalid_user_id',
} as const;

export type AuthWebhookErrorCode = (typeof AUTH_WEBHOOK_ERRORS)[keyof typeof AUTH_WEBHOOK_ERRORS];

export const invalidWebhookUrl = (why: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidWebhookUrl, `url ${why}`);

export const webhookNotFound = (): ProblemError => notFound(AUTH_WEBHOOK_ERRORS.webhookNotFound, 'this org has no auth webhook');

export const invalidUserId = (): ProblemError =>
  badRequest(AUTH_WEBHOOK_ERRORS.invalidUserId, "user_id: 1 to 128 characters, no '/', '+', '#', '@', spaces or leading '$'");

export const invalidChain = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidChain, detail);

/** The caller's key names an org that no longer exists. */
export const orgOfKeyGone = (): ProblemError => invalidApiKey();
