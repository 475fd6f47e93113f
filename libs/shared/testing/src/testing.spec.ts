import net from 'node:net';
import { databaseUrl, redisUrl } from './env';
import { uniquePrefix } from './redis';
import { tamper } from './tamper';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

/** A loopback echo server, so the proxy is tested without any real service. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (data) => resolve(data.toString()));
    socket.once('error', reject);
    socket.write(text);
  });
}

/** What `socket` receives within `ms`. */
function received(socket: net.Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => (text += chunk.toString());
    socket.on('data', onData);
    setTimeout(() => {
      socket.off('data', onData);
      resolve(text);
    }, ms);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

describe('TcpProxy', () => {
  it('pipes, cuts, refuses while cut, and restores', async () => {
    const echo = await echoServer();
    const proxy = new TcpProxy('127.0.0.1', echo.port);
    try {
      const port = await proxy.start();
      expect(port).toBeGreaterThan(0);
      const a = await connect(port);
      a.on('error', () => undefined);
      expect(await roundTrip(a, 'hello')).toBe('hello');
      expect(proxy.connectionCount).toBe(1);

      proxy.cut();
      await closed(a);
      expect(proxy.connectionCount).toBe(0);

      // Accepted by the kernel, then dropped: no data makes it through.
      const b = net.connect(port, '127.0.0.1');
      b.on('error', () => undefined);
      await closed(b);

      proxy.restore();
      const c = await connect(port);
      expect(await roundTrip(c, 'again')).toBe('again');
      expect(proxy.port).toBe(port);
      c.destroy();
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  it('stalls: keeps connections open, forwards nothing until restore, then delivers what waited', async () => {
    const echo = await echoServer();
    const proxy = new TcpProxy('127.0.0.1', echo.port);
    try {
      const port = await proxy.start();
      const open = await connect(port);
      open.on('error', () => undefined);
      expect(await roundTrip(open, 'before')).toBe('before');

      proxy.stall();
      expect(proxy.stalled).toBe(true);
      open.write('during');
      // A connection opened during the stall is accepted, and gets nothing either.
      const late = await connect(port);
      late.on('error', () => undefined);
      late.write('late');
      const [openDuring, lateDuring] = await Promise.all([received(open, 300), received(late, 300)]);
      expect({ openDuring, lateDuring }).toEqual({ openDuring: '', lateDuring: '' });
      expect(open.destroyed || late.destroyed).toBe(false);

      const openAfter = received(open, 300);
      const lateAfter = received(late, 300);
      proxy.restore();
      expect({ open: await openAfter, late: await lateAfter }).toEqual({ open: 'during', late: 'late' });
      open.destroy();
      late.destroy();
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  it('rewrites URLs to point at itself', async () => {
    const proxy = TcpProxy.forUrl('redis://user:pw@127.0.0.1:6379/2');
    expect(proxy.targetPort).toBe(6379);
    await proxy.start();
    try {
      expect(proxy.urlFor('redis://user:pw@127.0.0.1:6379/2')).toBe(`redis://user:pw@127.0.0.1:${proxy.port}/2`);
    } finally {
      await proxy.close();
    }
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).resolves.toBe(3);
  });

  it('treats throwing predicates as "not yet" and reports the last error on timeout', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still broken');
        },
        { timeoutMs: 50, intervalMs: 5, message: 'thing to work' },
      ),
    ).rejects.toThrow(/thing to work.*still broken/);
  });
});

describe('env helpers', () => {
  it('have defaults and unique prefixes', () => {
    expect(redisUrl()).toMatch(/^rediss?:\/\//);
    expect(databaseUrl()).toMatch(/^postgres(ql)?:\/\//);
    const a = uniquePrefix('bus test');
    expect(a).toMatch(/^signet-test-bus-test-[0-9a-f]{10}:$/);
    expect(uniquePrefix('bus test')).not.toBe(a);
  });
});

describe('tamper', () => {
  it.each([
    ['sk_live_abcx', 1],
    ['sk_live_abcA', 1],
    ['sig.AAAA', 4],
    ['sig.xAAA', 4],
  ])('changes the tail of %s, keeping its length', (secret, n) => {
    const near = tamper(secret, n);
    expect(near).not.toBe(secret);
    expect(near).toHaveLength(secret.length);
    expect(near.slice(0, -n)).toBe(secret.slice(0, -n));
  });
});
