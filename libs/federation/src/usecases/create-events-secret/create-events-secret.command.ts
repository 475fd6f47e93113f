export interface CreateEventsSecretCommand {
  orgId: string;
  providerId: string;
}
