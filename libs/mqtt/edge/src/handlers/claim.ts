import type { ClaimResult, StoredSession } from '@signet/mqtt-cluster';
import type { SessionRequest } from '../core/broker';
import { RC } from '../core/codes';
import type { ConnectRefusal, Principal } from '../core/principal';
import { ownerOf } from '../core/session';
import { sessionRecord } from '../core/session-record';
import type { Peer } from './peer';

/**
 * In a cluster, a CONNECT claims its client id on the bus before it gets a session (handlers/connect.ts): the
 * claim is atomic across edges and carries the epoch that fences this connection's later release. Another
 * owner's live id is refused on every edge as on one; the same owner's live id on another edge is taken
 * over there (DISCONNECT 0x8E). When the bus stores sessions the same step reads the client id's stored
 * session (resume) or ends it (clean start). `proceed` runs with the epoch (and what was read) once
 * claimed, `refuse` otherwise.
 */
export function claimClientId(
  peer: Peer,
  principal: Principal,
  request: SessionRequest,
  proceed: (epoch: number, stored: StoredSession | undefined) => void,
  refuse: (reason: ConnectRefusal, detail: string) => void,
): void {
  const broker = peer.broker;
  const cluster = broker.cluster!;
  const orgId = principal.orgId;
  const clientId = request.clientId;
  // The registry entry rides on the claim's own round trip (GET /v1/sessions lists it).
  const record = sessionRecord(peer, principal, clientId, cluster.bus.edgeId, Date.now());
  const claimed = (result: ClaimResult, async: boolean): void => {
    try {
      attach(result, async);
    } finally {
      cluster.settled(orgId, clientId);
    }
  };
  const attach = (result: ClaimResult, async: boolean): void => {
    if (!result.ok) return refuse('client_id_in_use', clientId);
    const epoch = result.epoch;
    // Closed or timed out while the claim was in flight; or a newer claim elsewhere already took the id over.
    if (!peer.isAuthenticating()) return cluster.bus.release(orgId, clientId, epoch);
    if (cluster.fenced(orgId, clientId, epoch)) return refuse('client_id_in_use', clientId);
    if (async) {
      // A revocation or a shutdown may have landed while the claim was in flight.
      const refusal = broker.sessions.credentialRefusal(principal, broker.tick());
      const reason: ConnectRefusal | null = refusal !== null ? 'bad_credentials' : broker.closing ? 'server_unavailable' : null;
      if (reason !== null) {
        cluster.bus.release(orgId, clientId, epoch);
        return refuse(reason, refusal ?? 'edge shutting down');
      }
    }
    try {
      proceed(epoch, result.stored);
      const session = peer.session;
      if (session !== null && session.epoch === epoch) session.record = record;
    } catch (err) {
      broker.logger.error({ err }, 'mqtt edge failed completing CONNECT');
      if (peer.isConnected()) peer.kick(RC.UNSPECIFIED, 'internal_error', true);
      else peer.shutdown('internal_error', false);
    }
  };
  let result: ClaimResult | Promise<ClaimResult>;
  try {
    const persist = { resume: !request.cleanStart, expiryMs: request.expiryMs, limit: broker.limits.maxQueuedMessages, credentialId: principal.credentialId };
    result = cluster.claim(orgId, clientId, ownerOf(principal), record, persist);
  } catch (err) {
    cluster.settled(orgId, clientId);
    broker.logger.error({ err }, 'mqtt edge could not claim the client id');
    return refuse('server_unavailable', 'cluster unavailable');
  }
  if (result instanceof Promise) {
    result.then(
      (r) => claimed(r, true),
      (err: unknown) => {
        cluster.settled(orgId, clientId);
        broker.logger.error({ err }, 'mqtt edge could not claim the client id');
        if (peer.isAuthenticating()) refuse('server_unavailable', 'cluster unavailable');
      },
    );
  } else {
    claimed(result, false);
  }
}
