/**
 * mTLS end to end: the all-in-one on the machine's PostgreSQL and Redis with
 * TLS listeners, client CAs and certificates made at test time with `openssl
 * ca` (valid, expired, from a CA nobody trusts, revoked by serial, listed in a
 * CRL), devices connecting with the real `mqtt` client over mqtts and wss and
 * with `mosquitto_pub --cert/--key/--cafile`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import type { IClientOptions, MqttClient } from 'mqtt';

import type { SignetProcess } from '@signet/runtime';
import { waitFor } from '@signet/testing';

import { type ClientCa, type ClientCert, makeClientCa } from '../../libs/auth-webhooks/src/testing/client-pki';
import { makeTestPki, type TestPki } from '../../libs/mqtt/edge/src/testing/certs';
import { TokenApi } from '../support/api';
import { connect, nextMessage, noMessage, publishCode, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(90_000);

describe('mTLS client certificates (all-in-one, PostgreSQL + Redis, mqtt over mqtts and wss, mosquitto_pub)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let orgId: string;
  let serverPki: TestPki;
  let factory: ClientCa;
  let stranger: ClientCa;
  let rx: WebhookReceiver;
  let caId: string;
  const open: MqttClient[] = [];

  beforeAll(async () => {
    serverPki = makeTestPki();
    const files = serverPki.issue('edge', 'localhost');
    factory = makeClientCa('factory');
    stranger = makeClientCa('stranger');
    rx = await startWebhookReceiver();
    backend = await realBackend('mtls');
    signet = await startSignet(backend, {
      SIGNET_TLS_CERT: files.certFile,
      SIGNET_TLS_KEY: files.keyFile,
      SIGNET_WEBHOOK_ALLOW_HTTP: 'true',
      SIGNET_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    admin = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    orgId = signet.service!.bootstrap!.orgId;
  });

  afterEach(() => {
    for (const c of open.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
    await rx?.close();
    serverPki?.cleanup();
    factory?.cleanup();
    stranger?.cleanup();
  });

  const tlsOptions = (cert?: ClientCert): IClientOptions => ({
    ca: serverPki.ca,
    ...(cert ? { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) } : {}),
  });
  const mqtts = () => `mqtts://127.0.0.1:${signet.ports.mqtts}`;
  const wss = () => `wss://127.0.0.1:${signet.ports.wss}/mqtt`;
  const device = async (url: string, cert: ClientCert | undefined, extra: IClientOptions = {}): Promise<MqttClient> => {
    const client = await connect(url, { protocolVersion: 5, clientId: `c-${Math.random().toString(36).slice(2)}`, ...tlsOptions(cert), ...extra });
    open.push(client);
    return client;
  };
  const refusal = (url: string, cert: ClientCert | undefined, extra: IClientOptions = {}) =>
    refusalCode(url, { protocolVersion: 5, clientId: `r-${Math.random().toString(36).slice(2)}`, ...tlsOptions(cert), ...extra });

  it('refuses bad input on the API with problem codes', async () => {
    const leaf = factory.issue('not-a-ca', { cn: 'leaf' });
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/certificate-authorities', { name: 'x', pem: 'not a pem' }, 400, 'invalid_certificate_authority'],
      ['POST', '/v1/certificate-authorities', { name: 'x', pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, 400, 'invalid_certificate_authority'],
      ['POST', '/v1/certificate-authorities', { name: 'leaf', pem: leaf.pem }, 400, 'invalid_certificate_authority'],
      ['POST', '/v1/certificate-authorities', { name: 'x' }, 400, 'validation_failed'],
      ['POST', '/v1/certificate-authorities', { name: 'nul\u0000name', pem: factory.pem }, 400, 'invalid_certificate_authority'],
      ['GET', '/v1/certificate-authorities/%00', undefined, 404, 'certificate_authority_not_found'],
      ['POST', '/v1/certificate-authorities/ca_nothere00000/revocations', { serial: '1A' }, 404, 'certificate_authority_not_found'],
      ['POST', '/v1/certificate-authorities/ca_nothere00000/revocations', { serial: 'zz' }, 400, 'invalid_certificate_revocation'],
      ['PUT', '/v1/certificate-authorities/ca_nothere00000/crl', { crl: 'x' }, 400, 'invalid_crl'],
      ['PUT', '/v1/certificate-settings', { identity: 'cn', publish: ['a/\u0000/#'], subscribe: [] }, 400, 'invalid_certificate_rule'],
      ['GET', '/v1/certificate-authorities/ca_nothere00000', undefined, 404, 'certificate_authority_not_found'],
      ['DELETE', '/v1/certificate-authorities/ca_nothere00000', undefined, 404, 'certificate_authority_not_found'],
      ['GET', '/v1/certificate-authorities?cursor=garbage', undefined, 400, 'invalid_cursor'],
      ['PUT', '/v1/certificate-settings', { identity: 'cn', publish: ['devices/{serial}/#'], subscribe: [] }, 400, 'invalid_certificate_rule'],
      ['PUT', '/v1/certificate-settings', { identity: 'nickname', publish: [], subscribe: [] }, 400, 'validation_failed'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await admin.call(method, path, body);
      expect([method, path, res.status, res.body['code']]).toEqual([method, path, status, code]);
      expect(res.contentType).toMatch(/application\/problem\+json/);
    }
  });

  it('a TLS client with a token connects before any CA exists, and stays connected when one is uploaded', async () => {
    const creds = await admin.issue({ user_id: 'before' });
    const before = await device(mqtts(), undefined, creds.mqtt_credentials);
    const uploaded = await admin.call('POST', '/v1/certificate-authorities', { name: 'factory CA', pem: factory.pem });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ name: 'factory CA', allow_any: true, crl: null });
    caId = String(uploaded.body['id']);
    expect(caId).toMatch(/^ca_[0-9a-z]{12}$/);
    const again = await admin.call('POST', '/v1/certificate-authorities', { name: 'twice', pem: factory.pem });
    expect([again.status, again.body['code']]).toEqual([409, 'certificate_authority_exists']);
    const rule = await admin.call('PUT', '/v1/certificate-settings', { identity: 'cn', publish: ['devices/{cert_cn}/#'], subscribe: ['devices/{cert_cn}/#'] });
    expect(rule.body).toEqual({ identity: 'cn', publish: ['devices/{cert_cn}/#'], subscribe: ['devices/{cert_cn}/#'], require_password: false, is_default: false });
    // The listener was not restarted: the connection made before the CA is still up.
    await expect(publishCode(before, 'users/before/x', '1')).resolves.toBe(0);
    expect(before.connected).toBe(true);
    const list = await admin.call('GET', '/v1/certificate-authorities');
    expect((list.body['certificate_authorities'] as { id: string }[]).map((c) => c.id)).toEqual([caId]);
  });

  it('a certificate-authenticated device connects over mqtts and wss, publishes inside its template and is refused outside it', async () => {
    const cert = factory.issue('sensor-1', { cn: 'sensor-1' });
    for (const url of [mqtts(), wss()]) {
      const client = await device(url, cert);
      await expect(publishCode(client, 'devices/sensor-1/temp', '21')).resolves.toBe(0);
      await expect(publishCode(client, 'devices/sensor-2/temp', '21')).resolves.toBe(0x87);
    }
    // MQTT 3.1.1: no negative PUBACK; the publish outside the template reaches no one.
    const watcher = await device(mqtts(), factory.issue('sensor-2', { cn: 'sensor-2' }));
    await watcher.subscribeAsync('devices/sensor-2/#');
    const v4 = await device(mqtts(), cert, { protocolVersion: 4 });
    v4.publish('devices/sensor-2/temp', 'intrusion', { qos: 1 });
    await noMessage(watcher, 400);
    // A username, when given, must name the certificate's identity in its org.
    await expect(refusal(mqtts(), cert, { username: `sensor-9@${orgId}` })).resolves.toBe(0x86);
    await device(mqtts(), cert, { username: `sensor-1@${orgId}` });
  });

  it('refuses an expired certificate, one from a CA nobody trusts, and a token-less client without one (0x86 / 3.1.1: 4)', async () => {
    const expired = factory.issue('old', { cn: 'old', expired: true });
    const foreign = stranger.issue('foreign', { cn: 'sensor-1' });
    await expect(refusal(mqtts(), expired)).resolves.toBe(0x86);
    await expect(refusal(mqtts(), foreign)).resolves.toBe(0x86);
    await expect(refusal(wss(), foreign)).resolves.toBe(0x86);
    await expect(refusal(mqtts(), undefined)).resolves.toBe(0x86);
    await expect(refusal(mqtts(), foreign, { protocolVersion: 4 })).resolves.toBe(4);
  });

  it('a certificate revoked by serial while connected is disconnected (0x98) and refused on reconnect', async () => {
    const cert = factory.issue('rev-1', { cn: 'rev-1' });
    const client = await device(mqtts(), cert);
    const closed = serverClosed(client);
    const res = await admin.call('POST', `/v1/certificate-authorities/${caId}/revocations`, { serial: cert.serial });
    expect(res.status).toBe(200);
    expect((res.body['certificates'] as { status: string; serial: string }[])[0]).toMatchObject({ status: 'revoked', serial: cert.serial.replace(/^0+/, '') });
    await expect(closed).resolves.toEqual({ reasonCode: 0x98 });
    await expect(refusal(mqtts(), cert)).resolves.toBe(0x86);
    const byFingerprint = factory.issue('rev-2', { cn: 'rev-2' });
    const other = await device(wss(), byFingerprint);
    const otherClosed = serverClosed(other);
    expect((await admin.call('POST', `/v1/certificate-authorities/${caId}/revocations`, { fingerprint: byFingerprint.fingerprint })).status).toBe(200);
    await expect(otherClosed).resolves.toEqual({ reasonCode: 0x98 });
    const both = await admin.call('POST', `/v1/certificate-authorities/${caId}/revocations`, { serial: '01', fingerprint: byFingerprint.fingerprint });
    expect([both.status, both.body['code']]).toEqual([400, 'invalid_certificate_revocation']);
  });

  it('imports a CRL: a listed certificate is disconnected and refused; an older or foreign CRL is refused', async () => {
    const older = factory.crl();
    // CRL times are in whole seconds: the next one must be dated later to be newer.
    await new Promise((r) => setTimeout(r, 1100));
    const listed = factory.issue('crl-1', { cn: 'crl-1' });
    const kept = factory.issue('crl-2', { cn: 'crl-2' });
    const client = await device(mqtts(), listed);
    const closed = serverClosed(client);
    factory.revoke(listed);
    const crl = factory.crl();
    const res = await admin.call('PUT', `/v1/certificate-authorities/${caId}/crl`, { crl });
    expect(res.status).toBe(200);
    expect((res.body['crl'] as { revoked: number }).revoked).toBe(1);
    await expect(closed).resolves.toEqual({ reasonCode: 0x98 });
    await expect(refusal(mqtts(), listed)).resolves.toBe(0x86);
    await device(mqtts(), kept);
    const stale = await admin.call('PUT', `/v1/certificate-authorities/${caId}/crl`, { crl: older });
    expect([stale.status, stale.body['code']]).toEqual([400, 'invalid_crl']);
    const foreign = await admin.call('PUT', `/v1/certificate-authorities/${caId}/crl`, { crl: stranger.crl() });
    expect([foreign.status, foreign.body['code']]).toEqual([400, 'invalid_crl']);
    const junk = await admin.call('PUT', `/v1/certificate-authorities/${caId}/crl`, { crl: 'nope' });
    expect([junk.status, junk.body['code']]).toEqual([400, 'invalid_crl']);
  });

  it('mosquitto_pub publishes with --cert/--key/--cafile, and is refused with a certificate nobody trusts', async () => {
    const cert = factory.issue('mosq', { cn: 'mosq' });
    const watcher = await device(mqtts(), cert);
    await expect(subscribeCodes(watcher, 'devices/mosq/#')).resolves.toEqual([0]);
    const pub = (c: ClientCert) =>
      run('mosquitto_pub', ['-h', 'localhost', '-p', String(signet.ports.mqtts), '-V', 'mqttv5', '--cafile', serverPki.caFile,
        '--cert', c.certFile, '--key', c.keyFile, '-t', 'devices/mosq/hello', '-m', 'from mosquitto_pub', '-q', '1', '-i', `mosq-${Math.random()}`]);
    // Listening before publishing: the message may arrive before mosquitto_pub has exited.
    const received = nextMessage(watcher, 10_000);
    const ok = await pub(cert);
    expect(ok.code).toBe(0);
    await expect(received).resolves.toEqual({ topic: 'devices/mosq/hello', payload: 'from mosquitto_pub' });
    const refused = await pub(stranger.issue('mosq-foreign', { cn: 'mosq' }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bad user name or password|not authori[sz]ed/i);
  });

  it('a CA that allows registered certificates only: an unregistered one is refused, a registered one connects', async () => {
    expect((await admin.call('PATCH', `/v1/certificate-authorities/${caId}`, { allow_any: false })).body['allow_any']).toBe(false);
    const unregistered = factory.issue('unreg', { cn: 'unreg' });
    const registered = factory.issue('reg', { cn: 'reg' });
    await waitFor(async () => (await refusal(mqtts(), unregistered)) === 0x86);
    const reg = await admin.call('POST', `/v1/certificate-authorities/${caId}/certificates`, { pem: registered.pem });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ status: 'registered', fingerprint: registered.fingerprint });
    const dup = await admin.call('POST', `/v1/certificate-authorities/${caId}/certificates`, { pem: registered.pem });
    expect([dup.status, dup.body['code']]).toEqual([409, 'certificate_exists']);
    const foreign = await admin.call('POST', `/v1/certificate-authorities/${caId}/certificates`, { pem: stranger.issue('x', { cn: 'x' }).pem });
    expect([foreign.status, foreign.body['code']]).toEqual([400, 'invalid_certificate']);
    await device(mqtts(), registered);
    const listed = await admin.call('GET', `/v1/certificate-authorities/${caId}/certificates?limit=100`);
    expect((listed.body['certificates'] as { fingerprint: string }[]).map((c) => c.fingerprint)).toContain(registered.fingerprint);
    expect((await admin.call('PATCH', `/v1/certificate-authorities/${caId}`, { allow_any: true })).status).toBe(200);
  });

  it('certificate and password together: neither alone connects; both of the same identity do', async () => {
    await admin.call('PUT', '/v1/certificate-settings', { identity: 'cn', publish: ['devices/{cert_cn}/#'], subscribe: [], require_password: true });
    const cert = factory.issue('both', { cn: 'both' });
    const mine = await admin.issue({ user_id: 'both', permissions: { publish: ['devices/both/#'], subscribe: [] } });
    const someoneElse = await admin.issue({ user_id: 'other' });
    await waitFor(async () => (await refusal(mqtts(), cert)) === 0x86);
    await expect(refusal(mqtts(), undefined, mine.mqtt_credentials)).resolves.toBe(0x86);
    await expect(refusal(mqtts(), cert, someoneElse.mqtt_credentials)).resolves.toBe(0x86);
    const client = await device(mqtts(), cert, mine.mqtt_credentials);
    await expect(publishCode(client, 'devices/both/x', '1')).resolves.toBe(0);
    // Revoking the certificate ends the session though the password is a token.
    const closed = serverClosed(client);
    await admin.call('POST', `/v1/certificate-authorities/${caId}/revocations`, { fingerprint: cert.fingerprint });
    await expect(closed).resolves.toEqual({ reasonCode: 0x98 });
    await admin.call('PUT', '/v1/certificate-settings', { identity: 'cn', publish: ['devices/{cert_cn}/#'], subscribe: ['devices/{cert_cn}/#'], require_password: false });
  });

  it('the auth webhook is told the verified certificate (subject, SANs, serial, fingerprint)', async () => {
    const put = await admin.call('PUT', '/v1/auth-webhook', { url: rx.url, send_password: true });
    rx.secret = String(put.body['secret']);
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: ['webhook'] })).status).toBe(200);
    const cert = factory.issue('hooked', { cn: 'hooked', san: 'URI:spiffe://factory/hooked,DNS:hooked.example' });
    await device(mqtts(), cert, { username: `hooked@${orgId}`, password: 'let-me-in', clientId: 'hooked' });
    const call = rx.calls.at(-1)!;
    expect(call.verified).toBe(true);
    expect(call.body['certificate']).toEqual({
      subject: 'CN=hooked',
      sans: ['URI:spiffe://factory/hooked', 'DNS:hooked.example'],
      serial: cert.serial.replace(/^0+/, ''),
      fingerprint: cert.fingerprint,
    });
    // A certificate the TLS layer did not verify says nothing about the client: not sent.
    await device(mqtts(), stranger.issue('unverified', { cn: 'hooked' }), { username: `hooked@${orgId}`, password: 'let-me-in', clientId: 'hooked-2' });
    expect(rx.calls.at(-1)!.body).not.toHaveProperty('certificate');
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: null })).status).toBe(200);
  });

  it('a second CA is trusted without a listener restart: sessions of the first stay up', async () => {
    const cert = factory.issue('steady', { cn: 'steady' });
    const before = await device(mqtts(), cert);
    const second = makeClientCa('second');
    try {
      const up = await admin.call('POST', '/v1/certificate-authorities', { name: 'second', pem: second.pem });
      expect(up.status).toBe(201);
      const newcomer = second.issue('newcomer', { cn: 'newcomer' });
      // The edge applies the new trust as soon as it hears of it, a moment after the API answered.
      await waitFor(() => device(wss(), newcomer), { message: 'the second CA on the listeners' });
      await expect(publishCode(before, 'devices/steady/x', '1')).resolves.toBe(0);
      expect(before.connected).toBe(true);
      expect((await admin.call('DELETE', `/v1/certificate-authorities/${String(up.body['id'])}`)).status).toBe(204);
    } finally {
      second.cleanup();
    }
  });

  it('deleting the CA closes its sessions (0x98) and refuses its certificates; listeners stop asking for one', async () => {
    const cert = factory.issue('last', { cn: 'last' });
    const a = await device(mqtts(), cert);
    const b = await device(wss(), cert);
    const closed = [serverClosed(a), serverClosed(b)];
    expect((await admin.call('DELETE', `/v1/certificate-authorities/${caId}`)).status).toBe(204);
    await expect(Promise.all(closed)).resolves.toEqual([{ reasonCode: 0x98 }, { reasonCode: 0x98 }]);
    await expect(refusal(mqtts(), cert)).resolves.toBe(0x86);
    await waitFor(() => signet.edgeHandle!.certificateStep.authorities.length === 0);
  });
});

function run(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
