export interface GetProviderCommand {
  orgId: string;
  id: string;
}
