import { Controller, Get, Ip, Module } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

import { loadConfig } from '@signet/config';
import { createLogger, SignetMetrics } from '@signet/observability';

import { createHttpApp } from './app';

/** Answers with the client address exactly as route handlers see it (`@Ip()`, i.e. Fastify's `request.ip`). */
@Controller('whoami')
class WhoAmIController {
  @Get()
  whoami(@Ip() ip: string): { ip: string } {
    return { ip };
  }
}

@Module({ controllers: [WhoAmIController] })
class WhoAmIModule {}

async function appTrusting(variable: string | undefined): Promise<NestFastifyApplication> {
  const app = await createHttpApp({
    title: 'test',
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: new SignetMetrics({ defaults: false }),
    providers: [],
    imports: [WhoAmIModule],
    // Through the config reader, so every accepted spelling is one Fastify accepts too.
    trustedProxies: loadConfig({ SIGNET_TRUSTED_PROXIES: variable }).proxy.trustedProxies,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

async function clientAddress(app: NestFastifyApplication, peer: string, forwardedFor?: string): Promise<string> {
  const res = await app
    .getHttpAdapter()
    .getInstance()
    .inject({ method: 'GET', url: '/whoami', remoteAddress: peer, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
  expect(res.statusCode).toBe(200);
  return (res.json() as { ip: string }).ip;
}

describe('client address (request.ip) and SIGNET_TRUSTED_PROXIES', () => {
  describe('without trusted proxies', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await appTrusting(undefined);
    });
    afterAll(() => app.close());

    it('is the TCP peer, whatever X-Forwarded-For says', async () => {
      expect(await clientAddress(app, '10.1.2.3')).toBe('10.1.2.3');
      expect(await clientAddress(app, '10.1.2.3', '203.0.113.7')).toBe('10.1.2.3');
      expect(await clientAddress(app, '127.0.0.1', '198.51.100.1, 203.0.113.7')).toBe('127.0.0.1');
      expect(await clientAddress(app, '2001:db8::5', '203.0.113.7')).toBe('2001:db8::5');
    });
  });

  describe('with trusted proxies of both families', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await appTrusting('10.0.0.0/8, fd00::/8, 192.0.2.10');
    });
    afterAll(() => app.close());

    it('takes the forwarded address from a trusted peer', async () => {
      expect(await clientAddress(app, '10.1.2.3', '203.0.113.7')).toBe('203.0.113.7');
      expect(await clientAddress(app, '192.0.2.10', '203.0.113.7')).toBe('203.0.113.7');
      expect(await clientAddress(app, 'fd00::5', '2001:db8::7')).toBe('2001:db8::7');
      expect(await clientAddress(app, 'fd00::5', '203.0.113.7')).toBe('203.0.113.7');
    });

    it('takes the nearest untrusted address of a chain, never a value the client wrote before it', async () => {
      expect(await clientAddress(app, '10.1.2.3', '198.51.100.66, 203.0.113.7')).toBe('203.0.113.7');
      // Two trusted hops (e.g. load balancer, then ingress): both are skipped.
      expect(await clientAddress(app, '10.1.2.3', '198.51.100.66, 203.0.113.7, 10.9.9.9')).toBe('203.0.113.7');
    });

    it('ignores the header from a peer that is not trusted', async () => {
      expect(await clientAddress(app, '192.0.2.11', '203.0.113.7')).toBe('192.0.2.11');
      expect(await clientAddress(app, '11.0.0.1', '203.0.113.7')).toBe('11.0.0.1');
      expect(await clientAddress(app, 'fe00::5', '203.0.113.7')).toBe('fe00::5');
    });

    it('is the trusted peer itself when it sends no header', async () => {
      expect(await clientAddress(app, '10.1.2.3')).toBe('10.1.2.3');
    });

    it('trusts an IPv4 proxy seen on a dual-stack listener as an IPv4-mapped IPv6 address', async () => {
      expect(await clientAddress(app, '::ffff:10.1.2.3', '203.0.113.7')).toBe('203.0.113.7');
      expect(await clientAddress(app, '::ffff:11.0.0.1', '203.0.113.7')).toBe('::ffff:11.0.0.1');
    });
  });

  it('trusts an IPv4-mapped block for IPv4 peers', async () => {
    const app = await appTrusting('::ffff:10.0.0.0/104');
    try {
      expect(await clientAddress(app, '10.1.2.3', '203.0.113.7')).toBe('203.0.113.7');
      expect(await clientAddress(app, '11.1.2.3', '203.0.113.7')).toBe('11.1.2.3');
    } finally {
      await app.close();
    }
  });
});
