import type { SessionPrincipal } from '@signet/api-keys';

export interface CreateAccountCommand {
  /** The org of the caller (a session's, or a secret API key's). */
  orgId: string;
  /** The signed-in caller; absent for a secret API key (full access to its org). */
  session?: SessionPrincipal;
  username: string;
  password: string;
  role: string;
}
