/** Stable codes an app can switch on; messages never carry a token or password. */
export type SignetErrorCode =
  /** getCredentials() threw or returned nothing usable. */
  | 'credentials_failed'
  /** The broker refused a CONNECT even with freshly fetched credentials: the SDK stops. */
  | 'credentials_rejected'
  /** getCredentials() returned the very token that was just revoked or refused: the SDK stops. */
  | 'credentials_unchanged'
  /** The broker refused a new token handed to the live session (AUTH, or the in-band topic). */
  | 'refresh_rejected'
  /** No verdict on a refresh in time. */
  | 'refresh_timeout'
  /** Anything MQTT.js reported that the SDK does not handle itself. */
  | 'mqtt_error'
  /** start() on a client that was already started or ended. */
  | 'invalid_state';

export class SignetClientError extends Error {
  override readonly name = 'SignetClientError';

  constructor(
    readonly code: SignetErrorCode,
    message: string,
    /** MQTT 3.1.1 return code or 5.0 reason code, when the broker gave one. */
    readonly reasonCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
