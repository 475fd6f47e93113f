import { badRequest, forbidden, notFound, ProblemError, unauthorized } from '@signet/http';

/** The dashboard's problem codes, each written once here. */
export const DASHBOARD_ERRORS = {
  notSignedIn: 'dashboard_not_signed_in',
  csrfRejected: 'csrf_rejected',
  signInFailed: 'dashboard_sign_in_failed',
  routeNotProxied: 'dashboard_route_not_found',
} as const;

export type DashboardErrorCode = (typeof DASHBOARD_ERRORS)[keyof typeof DASHBOARD_ERRORS];

export const notSignedIn = (): ProblemError =>
  unauthorized(DASHBOARD_ERRORS.notSignedIn, 'not signed in to the dashboard, or the session has ended: sign in again');

export const csrfRejected = (detail: string): ProblemError => forbidden(DASHBOARD_ERRORS.csrfRejected, detail);

export const signInFailed = (detail: string): ProblemError => badRequest(DASHBOARD_ERRORS.signInFailed, detail);

export const routeNotProxied = (): ProblemError =>
  notFound(DASHBOARD_ERRORS.routeNotProxied, 'the dashboard forwards /dashboard/api/v1/… to the /v1 API only');
