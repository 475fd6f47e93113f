export interface RevokeWebhookUserCommand {
  orgId: string;
  /** The `<user>` of the MQTT username `<user>@<org_id>` the webhook allowed. */
  userId: string;
}
