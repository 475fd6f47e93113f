import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, OidcPayloadEntity } from '@signet/persistence';

/** A sign-in in progress: the PKCE verifier and the hash of the browser's login cookie it is bound to. */
export interface PendingLogin {
  verifier: string;
  binding: string;
}

/** A signed-in browser: the session's tokens stay here, never in the page. */
export interface DashboardSession {
  /** The authorization server's grant: revoking it (here or from the CLI) deletes this row too. */
  grantId: string | null;
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  csrfToken: string;
}

/**
 * Kept in the authorization server's own store (table oidc_payloads, kinds of their own): rows carry
 * the grant id, so revoking the grant anywhere (sign-out, `signet logout --all`, refresh-token reuse)
 * ends the dashboard session with it; an expired row is never read.
 */
export interface DashboardSessionRepository {
  putLogin(state: string, login: PendingLogin, ttlSeconds: number): Promise<void>;
  /** The pending login of this state, deleted as it is read: a state is used once. */
  takeLogin(state: string): Promise<PendingLogin | null>;
  putSession(idHash: string, session: DashboardSession, ttlSeconds: number): Promise<void>;
  findSession(idHash: string): Promise<DashboardSession | null>;
  deleteSession(idHash: string): Promise<void>;
  /** The grant an access token of the authorization server belongs to. */
  grantOf(accessToken: string): Promise<string | null>;
}

export const DASHBOARD_SESSION_REPOSITORY = Symbol('DASHBOARD_SESSION_REPOSITORY');

const LOGIN = 'DashboardLogin';
const SESSION = 'DashboardSession';

@Injectable()
export class TypeOrmDashboardSessionRepository implements DashboardSessionRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get rows() {
    return this.dataSource.getRepository(OidcPayloadEntity);
  }

  private async put(kind: string, id: string, payload: object, grantId: string | null, ttlSeconds: number): Promise<void> {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    // jsonb column: TypeORM's deep-partial type does not describe an open record.
    await this.rows.upsert({ kind, id, payload: payload as never, grantId, userCode: null, uid: null, expiresAt }, ['kind', 'id']);
  }

  private async find(kind: string, id: string): Promise<Record<string, unknown> | null> {
    const row = await this.rows.findOneBy({ kind, id });
    return row && (row.expiresAt === null || row.expiresAt.getTime() > Date.now()) ? row.payload : null;
  }

  putLogin(state: string, login: PendingLogin, ttlSeconds: number): Promise<void> {
    return this.put(LOGIN, state, login, null, ttlSeconds);
  }

  async takeLogin(state: string): Promise<PendingLogin | null> {
    // DELETE … RETURNING: two callbacks with one state cannot both use it.
    const deleted = await this.dataSource.query(
      `DELETE FROM oidc_payloads WHERE kind = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > now()) RETURNING payload`,
      [LOGIN, state],
    );
    const rows = (Array.isArray(deleted[0]) ? deleted[0] : deleted) as Array<{ payload: PendingLogin }>;
    return rows[0]?.payload ?? null;
  }

  putSession(idHash: string, session: DashboardSession, ttlSeconds: number): Promise<void> {
    return this.put(SESSION, idHash, session, session.grantId, ttlSeconds);
  }

  async findSession(idHash: string): Promise<DashboardSession | null> {
    return (await this.find(SESSION, idHash)) as DashboardSession | null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.rows.delete({ kind: SESSION, id: idHash });
  }

  async grantOf(accessToken: string): Promise<string | null> {
    const payload = await this.find('AccessToken', accessToken);
    return typeof payload?.grantId === 'string' ? payload.grantId : null;
  }
}
