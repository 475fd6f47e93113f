import type Redis from 'ioredis';

/** How long ioredis waits for a closing socket before destroying it; short so close() is quick. */
export const DISCONNECT_TIMEOUT_MS = 100;

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve: () => resolve() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ends the connection for good and waits (briefly) until its socket is gone, so jest can exit. */
export async function disconnect(conn: Redis): Promise<void> {
  const live = conn.status === 'ready' || conn.status === 'connect' || conn.status === 'connecting';
  const ended = live
    ? new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS * 10);
        conn.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
      })
    : // ioredis arms a disconnectTimeout timer even for an already-dead socket
      // (status "reconnecting"); outlast it so no timer survives close().
      sleep(DISCONNECT_TIMEOUT_MS + 20);
  conn.disconnect();
  await ended;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
