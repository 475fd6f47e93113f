export interface DeleteProviderCommand {
  orgId: string;
  id: string;
}
