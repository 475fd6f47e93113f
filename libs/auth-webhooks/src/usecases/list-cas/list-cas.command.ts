export interface ListCasCommand {
  orgId: string;
  limit: number;
  cursor?: string;
}
