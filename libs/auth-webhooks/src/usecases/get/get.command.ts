export interface GetWebhookCommand {
  orgId: string;
}
