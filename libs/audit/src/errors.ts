import { badRequest, ProblemError } from '@signet/http';

/**
 * The audit feature's problem codes, each written once here. A filter of the wrong shape is the global
 * `validation_failed`; a viewer is refused with the api-keys feature's `insufficient_scope`.
 */
export const AUDIT_ERRORS = {
  invalidTimeRange: 'invalid_time_range',
} as const;

export type AuditErrorCode = (typeof AUDIT_ERRORS)[keyof typeof AUDIT_ERRORS];

export const invalidTimeRange = (): ProblemError => badRequest(AUDIT_ERRORS.invalidTimeRange, 'since must be before until');
