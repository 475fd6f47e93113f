import net from 'node:net';

import { TcpProxy } from './tcp-proxy';

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

describe('TcpProxy.stall', () => {
  it('keeps connections open, forwards nothing until restore, then delivers what waited', async () => {
    const echo = await echoServer();
    const proxy = new TcpProxy('127.0.0.1', echo.port);
    try {
      const port = await proxy.start();
      const open = net.connect(port, '127.0.0.1');
      open.on('error', () => undefined);
      await new Promise<void>((resolve) => open.once('connect', resolve));
      open.write('before');
      expect(await received(open, 200)).toBe('before');

      proxy.stall();
      expect(proxy.stalled).toBe(true);
      open.write('during');
      // A connection opened during the stall is accepted, and gets nothing either.
      const late = net.connect(port, '127.0.0.1');
      late.on('error', () => undefined);
      await new Promise<void>((resolve) => late.once('connect', resolve));
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
});
