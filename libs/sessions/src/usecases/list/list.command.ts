export interface ListSessionsCommand {
  orgId: string;
  userId?: string;
  clientId?: string;
  cursor?: string;
  limit?: number;
}
