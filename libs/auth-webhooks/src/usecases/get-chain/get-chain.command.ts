export interface GetChainCommand {
  orgId: string;
}
