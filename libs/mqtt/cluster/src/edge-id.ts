import { hostname } from 'node:os';

/**
 * This edge's id in the cluster: `SIGNET_EDGE_ID` when set (the pod name in Kubernetes, so it is stable
 * across restarts of the pod), else `<hostname>-<pid>`.
 */
export function defaultEdgeId(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['SIGNET_EDGE_ID']?.trim();
  return configured ? configured : `${hostname()}-${process.pid}`;
}
