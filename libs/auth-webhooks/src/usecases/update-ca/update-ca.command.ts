export interface UpdateCaCommand {
  orgId: string;
  caId: string;
  name?: string;
  allowAny?: boolean;
}
