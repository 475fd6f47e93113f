export interface ListProvidersCommand {
  orgId: string;
}
