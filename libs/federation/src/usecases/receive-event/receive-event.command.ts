/** An IdP event as received on /v1/idp-events/{provider_id}/…: the raw body and the headers that authenticate it. */
export type ReceiveIdpEventCommand =
  | { source: 'supabase_webhook'; providerId: string; rawBody: Buffer; body: unknown; authorization?: string; headerSecret?: string }
  | { source: 'backchannel_logout'; providerId: string; logoutToken: unknown }
  | { source: 'signed_call'; providerId: string; rawBody: Buffer; body: unknown; webhookId?: string; webhookTimestamp?: string; webhookSignature?: string };

export interface ReceivedIdpEvent {
  /** 'revoke_session', 'revoke_user' or 'ignored'. */
  action: string;
  revokedTokens: number;
  /** True when this very event was received before (nothing was done again). */
  replayed: boolean;
}
