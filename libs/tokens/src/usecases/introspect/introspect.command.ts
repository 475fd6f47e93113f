/** POST /v1/tokens/introspect (RFC 7662 §2.1). */
export interface IntrospectTokenCommand {
  /** The caller's org: only its tokens can be active. */
  orgId: string;
  token: string;
}
