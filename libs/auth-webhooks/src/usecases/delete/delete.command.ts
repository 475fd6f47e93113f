export interface DeleteWebhookCommand {
  orgId: string;
}
