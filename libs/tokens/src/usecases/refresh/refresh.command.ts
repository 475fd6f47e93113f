/** POST /v1/tokens/refresh: the `rt_` is the credential, no API key. */
export interface RefreshTokenCommand {
  refreshToken: string;
}
