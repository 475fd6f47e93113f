import type { TokenCredentialsDto } from '@signet/tokens';

/** A tiny client for the token API, as a customer backend would use it. */
export class TokenApi {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  withKey(apiKey: string): TokenApi {
    return new TokenApi(this.baseUrl, apiKey);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    init: { rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; contentType: string }> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    const payload = init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      contentType: res.headers.get('content-type') ?? '',
    };
  }

  async issue(body: Record<string, unknown>): Promise<IssuedCredentials> {
    const res = await this.call('POST', '/v1/tokens', body);
    if (res.status !== 201) throw new Error(`issue failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as unknown as IssuedCredentials;
  }
}

/** The body of a 201 from POST /v1/tokens (and of a refresh). */
export type IssuedCredentials = TokenCredentialsDto;
