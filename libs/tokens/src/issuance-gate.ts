import type { Permissions } from '@signet/permissions';

/**
 * Consulted by POST /v1/tokens when a feature provides it (the directory does,
 * globally): returns the permissions the token gets, which may only narrow
 * what the org would grant otherwise, or throws a ProblemError to refuse.
 */
export interface IssuanceGate {
  /** `requested`: the validated request; `explicit`: whether the request named permissions (or got the default). */
  permissionsFor(orgId: string, userId: string, requested: Permissions, explicit: boolean): Promise<Permissions>;
}

export const ISSUANCE_GATE = Symbol('ISSUANCE_GATE');
