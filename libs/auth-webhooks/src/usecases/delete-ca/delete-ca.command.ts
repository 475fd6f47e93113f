export interface DeleteCaCommand {
  orgId: string;
  caId: string;
}
