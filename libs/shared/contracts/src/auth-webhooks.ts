/** What the edge tells the auth-webhook service about a CONNECT (the password only travels when the org opted in). */
export interface WebhookConnectRequest {
  orgId: string;
  clientId: string;
  username: string;
  password?: string;
  protocolVersion: 3 | 4 | 5;
  peerAddress: string;
  listener: string;
  edgeId: string;
  requestId: string;
  /** The verified client certificate, when the listener had one. */
  certificate?: { subject: string; sans: string[]; serial: string; fingerprint: string };
}

/**
 * The service's answer. `unavailable`: the endpoint gave no usable answer
 * (timeout, non-200, bad body, breaker open); `failMode` is the org's choice
 * of what the edge does then.
 */
export type WebhookVerdict =
  | {
      result: 'allow';
      permissions: { publish: string[]; subscribe: string[] };
      /** ms epoch; null: the session lives until it ends or is revoked. */
      expiresAt: number | null;
      cacheSeconds: number;
    }
  | { result: 'deny'; cacheSeconds: number }
  | { result: 'ignore' }
  | { result: 'unavailable'; failMode: WebhookFailMode; detail: string };

/** When the webhook cannot answer: refuse with CONNACK 0x88 (`deny`), or hand over to the next step (`ignore`). */
export type WebhookFailMode = 'deny' | 'ignore';

/** The auth-webhook service as an edge sees it: in-process in the all-in-one, gRPC otherwise. */
export interface WebhookAuthorizer {
  authorizeConnect(request: WebhookConnectRequest): Promise<WebhookVerdict>;
  /** The org's authenticator chain (step names in order); null: the default chain. */
  chainFor(orgId: string): Promise<string[] | null>;
}
