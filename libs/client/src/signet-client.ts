/**
 * SignetClient: an MQTT.js client whose Signet token refreshes itself inside
 * the live session (no reconnect), and which stops instead of looping when
 * its credential is revoked. Browser-safe: no Node built-ins here.
 */
import mqtt from 'mqtt';
import type { IClientOptions, IConnackPacket, IDisconnectPacket, IPublishPacket, MqttClient, Packet } from 'mqtt';

import { TypedEmitter } from './emitter';
import { SignetClientError, SignetErrorCode } from './errors';
import { parseExpiry, RefreshPolicy, refreshDelay, resolvePolicy, retryDelay } from './schedule';

/** The Authentication Method Signet's edge knows (docs/mqtt-edge.md "Refresh without reconnecting"). */
export const AUTH_METHOD = 'signet-token';
export const REFRESH_TOPIC = '$signet/auth/refresh';
export const RESULT_TOPIC = '$signet/auth/result';

const RC_REAUTHENTICATE = 0x19;
const RC_SUCCESS = 0x00;
const RC_NOT_AUTHORIZED_5 = 0x87;
const RC_BAD_CREDENTIALS_5 = 0x86;
const RC_PROTOCOL_ERROR = 0x82;
const RC_ADMINISTRATIVE_ACTION = 0x98;
const RC_MAXIMUM_CONNECT_TIME = 0xa0;
/** 3.1.1 CONNACK: bad user name or password, not authorized. */
const RC_REFUSED_3 = new Set([4, 5]);
/** CONNACK refusals that pass (server unavailable or busy, connection and rate limits): retried with backoff. */
const RC_TRANSIENT_3 = new Set([3]);
const RC_TRANSIENT_5 = new Set([0x88, 0x89, 0x97, 0x9f]);

/** What the app's backend got from POST /v1/tokens (or /v1/tokens/refresh, /v1/federation/exchange). */
export interface SignetCredentials {
  username: string;
  password: string;
  /** ISO 8601 string as the API returns it; epoch seconds, epoch milliseconds or a Date also work. */
  expires_at: string | number | Date;
}

/** Why the SDK asks for credentials, so an app can pick its backend call (e.g. re-login after a revoke). */
export type CredentialsReason = 'connect' | 'refresh' | 'revoked' | 'expired';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type RefreshMethod = 'auth' | 'topic';

export interface SignetClientOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss:// (e.g. ws://host:8083/mqtt). */
  url: string;
  /** Returns fresh credentials, typically by calling the app's own backend. Called once per need, never in a loop. */
  getCredentials: (reason: CredentialsReason) => Promise<SignetCredentials>;
  /** MQTT.js options (protocolVersion 4 or 5, clientId, keepalive, clean, will, …). username/password come from getCredentials. */
  mqtt?: IClientOptions;
  /** How a new token reaches the session. Default: AUTH on MQTT 5, the in-band topic on 3.1.1. */
  refreshMethod?: RefreshMethod;
  /** When to refresh; see schedule.ts. */
  policy?: Partial<RefreshPolicy>;
  /** How long to wait for the broker's verdict on a refresh. Default 10 s. */
  refreshTimeoutMs?: number;
  /** Injected for tests. */
  clock?: Clock;
  random?: () => number;
  connect?: (url: string, options: IClientOptions) => MqttClient;
}

export type SignetClientState = 'idle' | 'connecting' | 'connected' | 'offline' | 'recovering' | 'stopped';

export interface RefreshedEvent {
  expiresAt: Date;
  /** 'connect' when the client was offline: the fresh token is kept for the next CONNECT. */
  via: RefreshMethod | 'connect';
}

export interface SessionEndEvent {
  /** 'disconnect': MQTT 5 DISCONNECT 0x98/0xA0. 'connack': a reconnect was refused (how 3.1.1 learns of it). */
  source: 'disconnect' | 'connack';
  reasonCode?: number;
}

export interface SignetClientEvents {
  connect: [connack: IConnackPacket];
  message: [topic: string, payload: Uint8Array, packet: IPublishPacket];
  refreshed: [event: RefreshedEvent];
  revoked: [event: SessionEndEvent];
  expired: [event: SessionEndEvent];
  error: [error: SignetClientError];
  offline: [];
  close: [];
  /** The SDK gave up (after an error it reported) or end() was called. */
  stopped: [];
}

interface PendingRefresh {
  password: string;
  expiresAtMs: number;
  method: RefreshMethod;
  correlation: string;
  timer: unknown;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** MQTT.js has no public call for an AUTH packet after CONNECT; this is the method its own AUTH handler uses. */
interface PacketSender {
  _sendPacket?: (packet: Packet, cb?: (err?: Error) => void) => void;
}

export class SignetClient extends TypedEmitter<SignetClientEvents> {
  /** The underlying MQTT.js client, for publish/subscribe and anything the SDK does not wrap. */
  mqtt: MqttClient | undefined;
  /** How many times a CONNECT was accepted (1 for a session that never reconnected). */
  connectCount = 0;
  /** How many times getCredentials() was called. */
  credentialsCalls = 0;

  private _state: SignetClientState = 'idle';
  private readonly policy: RefreshPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly refreshTimeoutMs: number;
  private readonly protocolVersion: 4 | 5;
  private readonly method: RefreshMethod;
  private password = '';
  private expiresAtMs = 0;
  private refreshTimer: unknown;
  private pending: PendingRefresh | undefined;
  /** Resolves the refresh waiting on `pending`, whatever its outcome. */
  private pendingDone: (() => void) | undefined;
  private refreshing = false;
  private retryAttempt = 0;
  private reconnectAttempt = 0;
  private reconnectTimer: unknown;
  private resultSubscription: Promise<boolean> | undefined;
  private startWaiter: { resolve: () => void; reject: (err: SignetClientError) => void } | undefined;
  private seq = 0;

  constructor(private readonly options: SignetClientOptions) {
    super();
    this.policy = resolvePolicy(options.policy);
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? 10_000;
    const version = options.mqtt?.protocolVersion ?? 4;
    if (version !== 4 && version !== 5) throw new RangeError('protocolVersion must be 4 (MQTT 3.1.1) or 5');
    this.protocolVersion = version;
    this.method = options.refreshMethod ?? (version === 5 ? 'auth' : 'topic');
    if (this.method === 'auth' && version !== 5) throw new RangeError("refreshMethod 'auth' needs protocolVersion 5");
  }

  get state(): SignetClientState {
    return this._state;
  }

  /** When the current token expires. */
  get expiresAt(): Date | undefined {
    return this.expiresAtMs ? new Date(this.expiresAtMs) : undefined;
  }

  /** Fetches credentials and connects; resolves on the first accepted CONNECT. */
  async start(): Promise<void> {
    if (this._state !== 'idle') throw new SignetClientError('invalid_state', `start() in state ${this._state}`);
    this._state = 'connecting';
    const creds = await this.fetchCredentials('connect');
    if (!creds) {
      this.stop();
      throw new SignetClientError('credentials_failed', 'getCredentials() failed for the first connect');
    }
    if (this.isStopped()) throw new SignetClientError('invalid_state', 'ended before connecting');
    this.adopt(creds);
    const connected = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    const options: IClientOptions = {
      reconnectPeriod: 1000,
      ...this.options.mqtt,
      protocolVersion: this.protocolVersion,
      username: creds.username,
      password: creds.password,
      // A refused CONNECT is the SDK's to handle (once, with new credentials), never MQTT.js's to retry.
      reconnectOnConnackError: false,
      manualConnect: false,
    };
    if (this.method === 'auth') {
      // The edge accepts AUTH 0x19 only from a session that named the method at CONNECT; the token rides as password.
      options.properties = { ...options.properties, authenticationMethod: AUTH_METHOD };
    }
    this.mqtt = (this.options.connect ?? mqtt.connect)(this.options.url, options);
    this.attach(this.mqtt);
    return connected;
  }

  /** Closes the connection and cancels every timer; no more getCredentials() calls. */
  async end(force = false): Promise<void> {
    const client = this.mqtt;
    this.stop();
    if (client) await client.endAsync(force);
  }

  private attach(client: MqttClient): void {
    client.on('connect', (connack) => this.onConnect(connack));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('packetreceive', (packet) => this.onPacket(packet));
    client.on('disconnect', (packet) => this.onDisconnect(packet));
    client.on('error', (err) => this.onError(err as Error & { code?: unknown }));
    client.on('offline', () => {
      if (this._state === 'connected') this._state = 'offline';
      this.emit('offline');
    });
    client.on('close', () => this.onClose());
  }

  private onConnect(connack: IConnackPacket): void {
    if (this.isStopped()) return;
    this.connectCount++;
    this.reconnectAttempt = 0;
    this._state = 'connected';
    this.resultSubscription = this.method === 'topic' ? this.subscribeResults() : undefined;
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter?.resolve();
    this.emit('connect', connack);
    // A refresh that came due while offline (or a recovery) is scheduled from the token now in use.
    if (!this.refreshing) this.schedule();
  }

  private onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    if (topic === RESULT_TOPIC) return this.onResult(payload, packet);
    this.emit('message', topic, payload, packet);
  }

  private onPacket(packet: Packet): void {
    const p = this.pending;
    if (!p || p.method !== 'auth' || packet.cmd !== 'auth') return;
    if (packet.reasonCode === RC_SUCCESS) this.settle(p, true);
  }

  private onDisconnect(packet: IDisconnectPacket): void {
    const rc = packet.reasonCode;
    const p = this.pending;
    if (p?.method === 'auth' && (rc === RC_NOT_AUTHORIZED_5 || rc === RC_PROTOCOL_ERROR)) {
      // The edge refused the new token and closes; MQTT.js reconnects with the previous one, still valid.
      return this.settle(p, false, rc);
    }
    if (rc === RC_ADMINISTRATIVE_ACTION) return void this.recover('revoked', { source: 'disconnect', reasonCode: rc });
    if (rc === RC_MAXIMUM_CONNECT_TIME) return void this.recover('expired', { source: 'disconnect', reasonCode: rc });
  }

  private onError(err: Error & { code?: unknown }): void {
    if (this.isStopped()) return;
    // MQTT.js reports a refused CONNACK as an 'error' with the code; only those are the SDK's to act on.
    const code = typeof err.code === 'number' && /^Connection refused/.test(err.message) ? err.code : undefined;
    const v5 = this.protocolVersion === 5;
    const refused = code !== undefined && (v5 ? code === RC_NOT_AUTHORIZED_5 || code === RC_BAD_CREDENTIALS_5 : RC_REFUSED_3.has(code));
    if (code !== undefined && (v5 ? RC_TRANSIENT_5 : RC_TRANSIENT_3).has(code)) {
      // MQTT.js does not retry a refused CONNECT (reconnectOnConnackError is off): retry these here, with backoff.
      this.emit('error', new SignetClientError('mqtt_error', err.message, code, { cause: err }));
      return this.scheduleReconnect();
    }
    if (refused && this.connectCount === 0) {
      // Credentials fetched a moment ago were refused: asking again would only repeat it.
      return this.fail('credentials_rejected', 'the broker refused the credentials from getCredentials()', code, err);
    }
    if (refused && this.isRecovering()) {
      return this.fail('credentials_rejected', 'the broker refused the new credentials after a revocation or expiry', code, err);
    }
    if (refused) {
      // A reconnect was refused: over 3.1.1 this is how a revocation shows. Expired if the token's time is up.
      const kind = this.clock.now() >= this.expiresAtMs ? 'expired' : 'revoked';
      return void this.recover(kind, { source: 'connack', reasonCode: code });
    }
    if (this.connectCount === 0 && code !== undefined) {
      // Any other refusal of the first CONNECT is a configuration problem (protocol, client id, auth method).
      return this.fail('mqtt_error', `connect refused: ${err.message}`, code, err);
    }
    this.emit('error', new SignetClientError('mqtt_error', err.message, code, { cause: err }));
  }

  private onClose(): void {
    if (this.resultSubscription) this.resultSubscription = undefined;
    const p = this.pending;
    if (p) {
      // Cut off before a verdict: keep the new token for the next CONNECT, which verifies it anyway.
      this.clearPending(p);
      this.adopt({ password: p.password, expiresAtMs: p.expiresAtMs });
      this.emit('refreshed', { expiresAt: new Date(p.expiresAtMs), via: 'connect' });
    }
    this.emit('close');
  }

  /** The session ended for its credential: ask for new credentials once, reconnect with them or stop. */
  private async recover(kind: 'revoked' | 'expired', event: SessionEndEvent): Promise<void> {
    if (this.isRecovering() || this.isStopped()) return;
    this._state = 'recovering';
    this.cancelRefresh();
    const client = this.mqtt!;
    const deadPassword = this.password;
    // Keep MQTT.js from reconnecting by itself with the dead token.
    client.end(true);
    this.emit(kind, event);
    const creds = await this.fetchCredentials(kind);
    if (this.isStopped()) return;
    if (!creds) return this.fail('credentials_failed', `getCredentials() failed after the token was ${kind}`);
    if (creds.password === deadPassword) {
      return this.fail('credentials_unchanged', `getCredentials() returned the ${kind} token again`);
    }
    this.adopt(creds);
    client.reconnect();
  }

  private scheduleReconnect(): void {
    if (this.isStopped() || this.reconnectTimer !== undefined) return;
    const delay = retryDelay(this.reconnectAttempt++, this.policy, this.random());
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.isStopped()) this.mqtt?.reconnect();
    }, delay);
  }

  private schedule(delay?: number): void {
    this.cancelRefresh();
    if (this.isStopped() || this.isRecovering()) return;
    const ms = delay ?? refreshDelay(this.clock.now(), this.expiresAtMs, this.policy, this.random());
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, ms);
  }

  private cancelRefresh(): void {
    if (this.refreshTimer !== undefined) this.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.pending) this.clearPending(this.pending);
  }

  /** Fetches a token and hands it to the live session (or keeps it for the next CONNECT when offline). */
  private async refresh(): Promise<void> {
    if (this.refreshing || this.isStopped() || this.isRecovering()) return;
    this.refreshing = true;
    try {
      const creds = await this.fetchCredentials('refresh');
      if (this.isStopped() || this.isRecovering()) return;
      if (!creds) return this.retry();
      const expiresAtMs = parseExpiry(creds.expires_at)!;
      const client = this.mqtt!;
      if (!client.connected) {
        this.adopt(creds);
        this.emit('refreshed', { expiresAt: new Date(expiresAtMs), via: 'connect' });
        return this.schedule();
      }
      await this.handOver(client, creds.password, expiresAtMs);
    } finally {
      this.refreshing = false;
    }
  }

  private async handOver(client: MqttClient, password: string, expiresAtMs: number): Promise<void> {
    const sender = client as unknown as PacketSender;
    const method: RefreshMethod = this.method === 'auth' && typeof sender._sendPacket === 'function' ? 'auth' : 'topic';
    if (method === 'topic') {
      this.resultSubscription ??= this.subscribeResults();
      if (!(await this.resultSubscription)) return this.retry();
      if (!client.connected || this.isStopped()) return this.retry();
    }
    const correlation = `${++this.seq}-${Math.floor(this.random() * 1e9)}`;
    const verdict = new Promise<void>((resolve) => {
      const p: PendingRefresh = {
        password,
        expiresAtMs,
        method,
        correlation,
        timer: this.clock.setTimeout(() => {
          if (this.pending !== p) return;
          this.clearPending(p);
          this.emit('error', new SignetClientError('refresh_timeout', `no answer to the ${method} refresh`));
          this.retry();
        }, this.refreshTimeoutMs),
      };
      this.pending = p;
      this.pendingDone = resolve;
    });
    if (method === 'auth') {
      // authenticationData is typed Buffer; mqtt-packet writes a string as UTF-8, which keeps Buffer out of browsers.
      sender._sendPacket!({
        cmd: 'auth',
        reasonCode: RC_REAUTHENTICATE,
        properties: { authenticationMethod: AUTH_METHOD, authenticationData: password as unknown as Buffer },
      });
    } else {
      const properties = this.protocolVersion === 5 ? { correlationData: correlation as unknown as Buffer } : undefined;
      client.publish(REFRESH_TOPIC, password, { qos: 0, ...(properties ? { properties } : {}) });
    }
    await verdict;
  }

  private onResult(payload: Uint8Array, packet: IPublishPacket): void {
    const p = this.pending;
    if (!p || p.method !== 'topic') return;
    const correlation = packet.properties?.correlationData;
    if (this.protocolVersion === 5 && correlation && decode(correlation) !== p.correlation) return;
    let verdict: { ok?: unknown; error?: unknown; expires_at?: unknown };
    try {
      verdict = JSON.parse(decode(payload)) as typeof verdict;
    } catch {
      return;
    }
    if (verdict.ok === true) {
      const serverExpiry = parseExpiry(verdict.expires_at);
      if (serverExpiry) p.expiresAtMs = serverExpiry;
      return this.settle(p, true);
    }
    this.settle(p, false, undefined, typeof verdict.error === 'string' ? verdict.error : undefined);
  }

  private settle(p: PendingRefresh, ok: boolean, reasonCode?: number, serverError?: string): void {
    if (this.pending !== p) return;
    this.clearPending(p);
    if (ok) {
      this.retryAttempt = 0;
      this.adopt({ password: p.password, expiresAtMs: p.expiresAtMs });
      this.emit('refreshed', { expiresAt: new Date(p.expiresAtMs), via: p.method });
      return this.schedule();
    }
    const why = serverError ? `: ${serverError}` : reasonCode !== undefined ? ` (reason 0x${reasonCode.toString(16)})` : '';
    this.emit('error', new SignetClientError('refresh_rejected', `the broker refused the new token${why}`, reasonCode));
    this.retry();
  }

  private clearPending(p: PendingRefresh): void {
    if (this.pending !== p) return;
    this.clock.clearTimeout(p.timer);
    this.pending = undefined;
    const done = this.pendingDone;
    this.pendingDone = undefined;
    done?.();
  }

  private retry(): void {
    if (this.isStopped() || this.isRecovering()) return;
    const remaining = this.expiresAtMs - this.clock.now();
    const delay = retryDelay(this.retryAttempt++, this.policy, this.random());
    // Try once more before expiry if there is time; past it, keep the backoff (the edge ends the session with
    // 0xA0 and recovery takes over, unless the device clock is off) and never spin.
    this.schedule(remaining > 0 ? Math.min(delay, remaining) : delay);
  }

  private subscribeResults(): Promise<boolean> {
    const client = this.mqtt!;
    return new Promise((resolve) => {
      client.subscribe(RESULT_TOPIC, { qos: 1 }, (err) => {
        if (err) this.emit('error', new SignetClientError('mqtt_error', `subscribe to ${RESULT_TOPIC} failed`, undefined, { cause: err }));
        resolve(!err);
      });
    });
  }

  /** Calls getCredentials() once; undefined (after an `error` event) when it fails or returns something unusable. */
  private async fetchCredentials(reason: CredentialsReason): Promise<SignetCredentials | undefined> {
    this.credentialsCalls++;
    let creds: SignetCredentials;
    try {
      creds = await this.options.getCredentials(reason);
    } catch (err) {
      this.emit('error', new SignetClientError('credentials_failed', `getCredentials('${reason}') threw`, undefined, { cause: err }));
      return undefined;
    }
    const valid =
      creds &&
      typeof creds.username === 'string' &&
      typeof creds.password === 'string' &&
      creds.password !== '' &&
      parseExpiry(creds.expires_at) !== undefined;
    if (!valid) {
      this.emit(
        'error',
        new SignetClientError('credentials_failed', `getCredentials('${reason}') must return { username, password, expires_at }`),
      );
      return undefined;
    }
    return creds;
  }

  /** Makes a token the current one, also for MQTT.js's own reconnects after a network blip. */
  private adopt(creds: SignetCredentials | { password: string; expiresAtMs: number }): void {
    const expiresAtMs = 'expiresAtMs' in creds ? creds.expiresAtMs : parseExpiry(creds.expires_at)!;
    this.password = creds.password;
    this.expiresAtMs = expiresAtMs;
    if (this.mqtt) {
      this.mqtt.options.password = creds.password;
      if ('username' in creds) this.mqtt.options.username = creds.username;
    }
  }

  private fail(code: SignetErrorCode, message: string, reasonCode?: number, cause?: unknown): void {
    const error = new SignetClientError(code, message, reasonCode, cause === undefined ? undefined : { cause });
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    this.stop();
    this.mqtt?.end(true);
    if (waiter) waiter.reject(error);
    this.emit('error', error);
  }

  private stop(): void {
    if (this._state === 'stopped') return;
    this.cancelRefresh();
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this._state = 'stopped';
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter?.reject(new SignetClientError('invalid_state', 'ended before the first connect'));
    this.emit('stopped');
  }

  private isRecovering(): boolean {
    return this._state === 'recovering';
  }

  private isStopped(): boolean {
    return this._state === 'stopped';
  }
}

const decode = (bytes: Uint8Array | string): string => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));

/** new SignetClient(options) and start(): resolves once connected. */
export async function connectSignet(options: SignetClientOptions): Promise<SignetClient> {
  const client = new SignetClient(options);
  await client.start();
  return client;
}
