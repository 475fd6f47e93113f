import type { SessionRole } from '@signet/api-keys';

export const ACCOUNT_ROLES: readonly SessionRole[] = ['owner', 'admin', 'viewer'];

export interface Account {
  id: string;
  orgId: string;
  username: string;
  role: SessionRole;
  /** argon2id PHC string; null for an account made by SSO sign-in. */
  passwordHash: string | null;
  createdAt: Date;
}
