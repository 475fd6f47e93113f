import { invalidApiKey } from '@signet/api-keys';
import { badRequest, conflict, notFound, ProblemError } from '@signet/http';

/** The auth-webhook feature's problem codes, each written once here. */
export const AUTH_WEBHOOK_ERRORS = {
  invalidWebhookUrl: 'invalid_webhook_url',
  webhookNotFound: 'webhook_not_found',
  invalidChain: 'invalid_authenticator_chain',
  invalidUserId: 'invalid_user_id',
  invalidCertificateAuthority: 'invalid_certificate_authority',
  certificateAuthorityExists: 'certificate_authority_exists',
  certificateAuthorityNotFound: 'certificate_authority_not_found',
  invalidCertificate: 'invalid_certificate',
  certificateExists: 'certificate_exists',
  invalidCrl: 'invalid_crl',
  invalidCertificateRevocation: 'invalid_certificate_revocation',
  invalidCertificateRule: 'invalid_certificate_rule',
} as const;

export type AuthWebhookErrorCode = (typeof AUTH_WEBHOOK_ERRORS)[keyof typeof AUTH_WEBHOOK_ERRORS];

export const invalidWebhookUrl = (why: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidWebhookUrl, `url ${why}`);

export const webhookNotFound = (): ProblemError => notFound(AUTH_WEBHOOK_ERRORS.webhookNotFound, 'this org has no auth webhook');

export const invalidUserId = (): ProblemError =>
  badRequest(AUTH_WEBHOOK_ERRORS.invalidUserId, "user_id: 1 to 128 characters, no '/', '+', '#', '@', spaces or leading '$'");

export const invalidChain = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidChain, detail);

/** The caller's key names an org that no longer exists. */
export const orgOfKeyGone = (): ProblemError => invalidApiKey();

export const invalidCertificateAuthority = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidCertificateAuthority, detail);

export const certificateAuthorityExists = (): ProblemError =>
  conflict(AUTH_WEBHOOK_ERRORS.certificateAuthorityExists, 'this org has registered this CA already');

export const certificateAuthorityNotFound = (): ProblemError =>
  notFound(AUTH_WEBHOOK_ERRORS.certificateAuthorityNotFound, 'this org has no certificate authority with this id');

export const invalidCertificate = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidCertificate, detail);

export const certificateExists = (): ProblemError => conflict(AUTH_WEBHOOK_ERRORS.certificateExists, 'this certificate is known to the CA already');

export const invalidCrl = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidCrl, detail);

export const invalidCertificateRevocation = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidCertificateRevocation, detail);

export const invalidCertificateRule = (detail: string): ProblemError => badRequest(AUTH_WEBHOOK_ERRORS.invalidCertificateRule, detail);
