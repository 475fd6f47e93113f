/**
 * mqtts and wss listeners with certificates made by openssl at test time, and
 * certificate reload without a restart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { MqttEdge } from './edge';
import { collect, connect, endAllClients, ORG_A, TestAuthenticator, waitFor, type Version } from './testing/helpers';
import { makeTestPki, type TestPki } from './testing/certs';

let pki: TestPki;
let edge: MqttEdge;
let files: { certFile: string; keyFile: string };
let ports: { mqtts: number; wss: number };

/** The common name of the certificate a fresh TLS handshake gets. */
function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost' }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(Array.isArray(cn) ? cn[0] : cn));
    });
    socket.once('error', reject);
  });
}

beforeAll(async () => {
  pki = makeTestPki();
  files = pki.issue('server', 'edge-one');
  edge = new MqttEdge({ authenticator: new TestAuthenticator(), limits: { sweepIntervalMs: 50 } });
  const tlsFiles = { ...files, watchIntervalMs: 100 };
  ports = {
    mqtts: (await edge.listenTls(0, '127.0.0.1', tlsFiles)).port,
    wss: (await edge.listenWebSocketTls(0, '127.0.0.1', '/mqtt', tlsFiles)).port,
  };
});

afterAll(async () => {
  await endAllClients();
  await edge.close();
  pki.cleanup();
});

describe.each([4, 5] as Version[])('MQTT over TLS, protocol version %i', (version) => {
  const urls = (): Record<'mqtts' | 'wss', string> => ({
    mqtts: `mqtts://127.0.0.1:${ports.mqtts}`,
    wss: `wss://127.0.0.1:${ports.wss}/mqtt`,
  });

  it.each(['mqtts', 'wss'] as const)('%s: CONNECT, SUBSCRIBE and PUBLISH with the test CA', async (scheme) => {
    const options = { username: `alice@${ORG_A}`, password: 'good', ca: pki.ca, rejectUnauthorized: true };
    const sub = await connect(urls()[scheme], version, options);
    const received = collect(sub);
    await new Promise<void>((resolve, reject) => sub.subscribe('users/alice/tls', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    const pub = await connect(urls()[scheme], version, options);
    await new Promise<void>((resolve, reject) => pub.publish('users/alice/tls', `over ${scheme}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    await waitFor(() => received.length === 1, 3000, 'message over TLS');
    expect(received[0]).toMatchObject({ topic: 'users/alice/tls', payload: `over ${scheme}`, qos: 1 });
  });

  it.each(['mqtts', 'wss'] as const)('%s: a client that does not trust the CA does not connect', async (scheme) => {
    await expect(
      connect(urls()[scheme], version, { username: `alice@${ORG_A}`, password: 'good', rejectUnauthorized: true }),
    ).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });
});

it('wss: an upgrade without the mqtt subprotocol is refused [MQTT-6.0.0-3]', async () => {
  const status = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: ports.wss, ca: pki.ca, servername: 'localhost' }, () => {
      socket.write(
        'GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
    });
    socket.once('data', (d) => {
      resolve(d.toString().split('\r\n')[0]);
      socket.destroy();
    });
    socket.once('error', reject);
  });
  expect(status).toBe('HTTP/1.1 400 Bad Request');
});

it('reloads a renewed certificate without a restart: new handshakes get it, live sessions stay', async () => {
  const options = { username: `bob@${ORG_A}`, password: 'good', ca: pki.ca, rejectUnauthorized: true };
  const liveTls = await connect(`mqtts://127.0.0.1:${ports.mqtts}`, 5, options);
  const liveWss = await connect(`wss://127.0.0.1:${ports.wss}/mqtt`, 4, options);
  expect(await peerCommonName(ports.mqtts)).toBe('edge-one');
  expect(await peerCommonName(ports.wss)).toBe('edge-one');

  pki.renew(files, 'edge-two');
  // Polled every 100 ms here (watchIntervalMs): within a few seconds new handshakes see it.
  const seen = { mqtts: '', wss: '' };
  for (let i = 0; i < 50 && (seen.mqtts !== 'edge-two' || seen.wss !== 'edge-two'); i++) {
    seen.mqtts = await peerCommonName(ports.mqtts);
    seen.wss = await peerCommonName(ports.wss);
    if (seen.mqtts !== 'edge-two' || seen.wss !== 'edge-two') await new Promise((r) => setTimeout(r, 100));
  }
  expect(seen).toEqual({ mqtts: 'edge-two', wss: 'edge-two' });

  // Connections made before the renewal are untouched and still route.
  const received = collect(liveWss);
  await new Promise<void>((resolve, reject) => liveWss.subscribe('users/bob/after', (err) => (err ? reject(err) : resolve())));
  liveTls.publish('users/bob/after', 'still here');
  await waitFor(() => received.length === 1, 3000, 'message across the reload');
  expect(liveTls.connected && liveWss.connected).toBe(true);
  // New MQTT clients connect with the renewed certificate.
  await expect(connect(`mqtts://127.0.0.1:${ports.mqtts}`, 4, options)).resolves.toBeDefined();
});

it('keeps the current certificate when the files do not form a valid pair', async () => {
  const other = pki.issue('other', 'edge-other');
  // A renewer that has written the new certificate but not yet its key.
  writeFileSync(files.certFile, readFileSync(other.certFile));
  expect(edge.reloadCertificates()).toBe(false);
  expect(await peerCommonName(ports.mqtts)).toBe('edge-two');
  writeFileSync(files.keyFile, readFileSync(other.keyFile));
  expect(edge.reloadCertificates()).toBe(true);
  expect(await peerCommonName(ports.mqtts)).toBe('edge-other');
});

it('refuses to listen with a key that does not match the certificate', async () => {
  const a = pki.issue('mismatch-a', 'a');
  const b = pki.issue('mismatch-b', 'b');
  const other = new MqttEdge({ authenticator: new TestAuthenticator() });
  await expect(other.listenTls(0, '127.0.0.1', { certFile: a.certFile, keyFile: b.keyFile })).rejects.toThrow(/key values mismatch/i);
  await other.close();
});
