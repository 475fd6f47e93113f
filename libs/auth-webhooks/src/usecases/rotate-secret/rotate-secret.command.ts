export interface RotateWebhookSecretCommand {
  orgId: string;
  /** How long the previous secret keeps signing beside the new one. */
  previousValidSeconds: number;
}
