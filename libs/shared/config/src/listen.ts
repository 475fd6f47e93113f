import { ConfigError } from './env';

/**
 * Turns a listen failure into an error that names the variable to change,
 * e.g. "SIGNET_MQTT_PORT: port 1883 on 0.0.0.0 is already in use".
 */
export function explainListenError(err: unknown, variable: string, port: number, host: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new ConfigError(variable, `port ${port} on ${host} is already in use; set ${variable} to a free port`);
  }
  if (code === 'EACCES') {
    return new ConfigError(variable, `not allowed to listen on port ${port}; set ${variable} to a port above 1023`);
  }
  if (err instanceof ConfigError) return err;
  // Some listeners (uWebSockets.js) cannot say why: still name what to change.
  const reason = err instanceof Error ? err.message : String(err);
  return new ConfigError(variable, `cannot listen on port ${port} on ${host} (${reason}); is it in use? set ${variable} to a free port`);
}
