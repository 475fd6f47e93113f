import { CredentialsStore, Profile } from './credentials';
import { CliError, EXIT, signInRequired } from './errors';
import { refresh } from './oauth';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
/** Refresh this long before the access token expires, so a request never carries a dying token. */
const REFRESH_MARGIN_MS = 60_000;

export interface GlobalOptions {
  profile?: string;
  server?: string;
  json?: boolean;
}

/** Where the CLI talks to and as whom: a stored profile, or SIGNET_TOKEN (CI) with SIGNET_SERVER. */
export class Session {
  readonly profileName: string;
  readonly store: CredentialsStore;

  constructor(
    readonly options: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.profileName = options.profile || env['SIGNET_PROFILE'] || 'default';
    this.store = new CredentialsStore();
  }

  get envToken(): string | undefined {
    return this.env['SIGNET_TOKEN'] || undefined;
  }

  /** --server, SIGNET_SERVER, the profile's server, then the default. */
  async server(): Promise<string> {
    const explicit = this.options.server || this.env['SIGNET_SERVER'];
    if (explicit) return explicit.replace(/\/+$/, '');
    if (this.envToken) return DEFAULT_SERVER;
    return (await this.store.profile(this.profileName))?.server ?? DEFAULT_SERVER;
  }

  /** A live bearer: SIGNET_TOKEN as it is, else the profile's access token, refreshed when near its end. */
  async bearer(): Promise<{ server: string; token: string; profile?: Profile }> {
    const server = await this.server();
    if (this.envToken) return { server, token: this.envToken };
    const profile = await this.store.profile(this.profileName);
    if (!profile) throw signInRequired(`not signed in (profile ${this.profileName})`);
    if (profile.expires_at - REFRESH_MARGIN_MS > Date.now()) return { server: profile.server, token: profile.access_token, profile };
    return { server: profile.server, token: (await this.refreshProfile(profile)).access_token, profile };
  }

  async refreshProfile(profile: Profile): Promise<Profile> {
    if (!profile.refresh_token) throw signInRequired('the session has expired');
    const tokens = await refresh(profile.server, profile.refresh_token);
    const next: Profile = {
      ...profile,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token ?? profile.refresh_token,
      expires_at: Date.now() + tokens.expires_in * 1000,
    };
    await this.store.save(this.profileName, next);
    return next;
  }

  /** One API call with the bearer; a 401 on a stored session refreshes once and retries. */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { server, profile, token: first } = await this.bearer();
    let token = first;
    let res = await send(server, method, path, token, body);
    if (res.status === 401 && profile) {
      token = (await this.refreshProfile(profile)).access_token;
      res = await send(server, method, path, token, body);
    }
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
      const message = `${problem.code ?? `HTTP ${res.status}`}: ${problem.detail ?? problem.title ?? text}`;
      if (res.status === 401) throw new CliError(this.envToken ? `SIGNET_TOKEN refused: ${message}` : `${message}: run \`signet login\``, EXIT.signInRequired, parsed);
      throw new CliError(message, EXIT.failure, parsed);
    }
    return parsed as T;
  }
}

async function send(server: string, method: string, path: string, token: string, body: unknown): Promise<Response> {
  try {
    return await fetch(new URL(path, server), {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${server}: ${(err as Error).cause ?? (err as Error).message}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
