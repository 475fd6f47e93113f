import type { SessionRole } from '@signet/api-keys';

export const ACCOUNT_ROLES: readonly SessionRole[] = ['owner', 'admin', 'viewer'];

export interface Account {
  id: string;
  orgId: string;
  username: string;
  role: SessionRole;
  passwordHash: string;
  createdAt: Date;
}
