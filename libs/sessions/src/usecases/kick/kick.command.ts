export interface KickSessionCommand {
  orgId: string;
  clientId: string;
}
