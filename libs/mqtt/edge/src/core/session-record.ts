import type { SessionRecord } from '@signet/mqtt-cluster';
import type { Principal } from './principal';
import type { ClientLink } from './session';

/** A connection as the session registry lists it (GET /v1/sessions). Built on claim or when listed, never per packet. */
export function sessionRecord(link: ClientLink, principal: Principal, clientId: string, edgeId: string, connectedAt: number): SessionRecord {
  const transport = link.transport === 'tcp' ? (link.secure ? 'tls' : 'tcp') : link.secure ? 'wss' : 'ws';
  return {
    clientId,
    userId: principal.subject,
    username: link.authUsername ?? `${principal.subject}@${principal.orgId}`,
    credentialKind: principal.kind,
    credentialId: principal.credentialId,
    edgeId,
    address: link.remoteKey,
    transport,
    protocolVersion: link.protocolVersion,
    connectedAt,
  };
}
