import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@signet/http';
import { inTransaction, OrgEntity } from '@signet/persistence';
import { IssuedCredentials, IssueRequest, TokenIssuer } from '@signet/tokens';

/** What the exchange decides about the org it issues in. */
export interface IssuingOrg {
  id: string;
  /** The org's cap on token lifetimes; null: the process maximum only. */
  maxTokenTtlSeconds: number | null;
}

/** A token for a user of the org (a new token family: an exchange is a sign-in). */
export type OrgTokenRequest = Omit<IssueRequest, 'orgId' | 'familyId'>;

/** Issuing exchanged credentials: the org is read and the token stored in one transaction. */
export interface TokenIssuance {
  /** Issues what `decide` returns for the org; throws `orgGone()` when the org no longer exists. */
  issueInOrg(orgId: string, orgGone: () => Error, decide: (org: IssuingOrg) => OrgTokenRequest): Promise<IssuedCredentials>;
}

export const TOKEN_ISSUANCE = Symbol('TOKEN_ISSUANCE');

@Injectable()
export class TypeOrmTokenIssuance implements TokenIssuance {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly issuer: TokenIssuer,
  ) {}

  issueInOrg(orgId: string, orgGone: () => Error, decide: (org: IssuingOrg) => OrgTokenRequest): Promise<IssuedCredentials> {
    return inTransaction(this.dataSource, async (manager) => {
      const org = await manager.findOneBy(OrgEntity, { id: orgId });
      if (!org) throw orgGone();
      return this.issuer.issue(manager, { orgId: org.id, ...decide({ id: org.id, maxTokenTtlSeconds: org.maxTokenTtlSeconds }) });
    });
  }
}
