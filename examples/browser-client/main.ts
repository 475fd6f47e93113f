/**
 * A browser page that stays connected to Signet across token refreshes.
 * Credentials come from the app's own backend (`GET /credentials` on this
 * page's origin), never from an API key in the browser. State is exposed on
 * `window.signet` so a test (or you, in the console) can watch it.
 */
import { SignetClient, type SignetCredentials } from '@signet/client';

interface PageState {
  state: string;
  connects: number;
  refreshes: number;
  credentialsCalls: number;
  received: string[];
  errors: string[];
  events: string[];
  expiresAt?: string;
}

const params = new URLSearchParams(location.search);
const broker = params.get('broker') ?? `ws://${location.hostname}:8083/mqtt`;
const protocolVersion = params.get('v') === '4' ? 4 : 5;
const minLeadMs = Number(params.get('lead') ?? 30_000);

const page: PageState = { state: 'idle', connects: 0, refreshes: 0, credentialsCalls: 0, received: [], errors: [], events: [] };
(window as unknown as { signet: PageState }).signet = page;

const log = (line: string): void => {
  page.events.push(line);
  const el = document.getElementById('log');
  if (el) el.textContent = page.events.join('\n');
};

async function getCredentials(): Promise<SignetCredentials> {
  const res = await fetch('/credentials', { method: 'POST' });
  if (!res.ok) throw new Error(`backend answered ${res.status}`);
  return (await res.json()) as SignetCredentials;
}

const client = new SignetClient({
  url: broker,
  mqtt: { protocolVersion, reconnectPeriod: 1000 },
  policy: { minLeadMs },
  getCredentials,
});

let userTopic = '';
let sent = 0;

client.on('connect', () => {
  page.connects = client.connectCount;
  page.credentialsCalls = client.credentialsCalls;
  page.state = client.state;
  log(`connected (${client.connectCount})`);
});
client.on('refreshed', ({ expiresAt, via }) => {
  page.refreshes++;
  page.credentialsCalls = client.credentialsCalls;
  page.expiresAt = expiresAt.toISOString();
  log(`refreshed via ${via}, expires ${page.expiresAt}`);
  // A message sent after each refresh proves the session still carries traffic.
  client.mqtt?.publish(userTopic, `after-refresh-${++sent}`, { qos: 1 });
});
client.on('message', (_topic, payload) => {
  page.received.push(new TextDecoder().decode(payload));
});
client.on('revoked', () => log('revoked'));
client.on('expired', () => log('expired'));
client.on('error', (err) => {
  page.errors.push(err.code);
  log(`error ${err.code}: ${err.message}`);
});
client.on('stopped', () => {
  page.state = 'stopped';
  log('stopped');
});

async function main(): Promise<void> {
  page.state = 'connecting';
  await client.start();
  page.credentialsCalls = client.credentialsCalls;
  // Tokens default to users/{user_id}/# both ways; the user id is the username before its last '@'.
  const username = client.mqtt!.options.username!;
  userTopic = `users/${username.slice(0, username.lastIndexOf('@'))}/echo`;
  await client.mqtt!.subscribeAsync(userTopic, { qos: 1 });
  page.state = client.state;
}

main().catch((err: { code?: string; message?: string }) => {
  page.state = 'failed';
  page.errors.push(err.code ?? 'start_failed');
  log(`start failed: ${err.message ?? String(err)}`);
});
