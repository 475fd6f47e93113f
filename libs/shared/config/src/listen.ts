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
  return err instanceof Error ? err : new Error(String(err));
}
