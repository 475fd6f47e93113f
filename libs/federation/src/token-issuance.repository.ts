import { Injectable } from '@nestjs/common';

import { IssuedCredentials, IssueRequest, TokenIssuer } from '@signet/tokens';

/** What the exchange decides about the org it issues in. */
export interface IssuingOrg {
  id: string;
  /** The org's cap on token lifetimes; null: the process maximum only. */
  maxTokenTtlSeconds: number | null;
}

/** A token for a user of the org (a new token family: an exchange is a sign-in). */
export type OrgTokenRequest = Omit<IssueRequest, 'orgId' | 'familyId'>;

/** Issuing exchanged credentials (a port, so the exchange's policy is tested with a fake). */
export interface TokenIssuance {
  /** Issues what `decide` returns for the org; throws `orgGone()` when the org no longer exists. */
  issueInOrg(orgId: string, orgGone: () => Error, decide: (org: IssuingOrg) => OrgTokenRequest): Promise<IssuedCredentials>;
}

export const TOKEN_ISSUANCE = Symbol('TOKEN_ISSUANCE');

/** Delegates to the token service's issuer, which reads the org and stores the token in one transaction. */
@Injectable()
export class TokenIssuerIssuance implements TokenIssuance {
  constructor(private readonly issuer: TokenIssuer) {}

  issueInOrg(orgId: string, orgGone: () => Error, decide: (org: IssuingOrg) => OrgTokenRequest): Promise<IssuedCredentials> {
    return this.issuer.issueInOrg(orgId, orgGone, decide);
  }
}
