import type { WebhookFailMode } from '@signet/contracts';

export interface RegisterWebhookCommand {
  orgId: string;
  url: string;
  sendPassword?: boolean;
  failMode?: WebhookFailMode;
}
