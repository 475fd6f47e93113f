import { encodeAck } from '../codec/codec';
import { PT, RC } from '../core/codes';
import type { Peer } from './peer';

/** PUBACK, PUBREC, PUBREL or PUBCOMP (`type`) for packet identifier `id`: the QoS 1/2 flows (§4.3). */
export function onAck(peer: Peer, type: number, id: number, reasonCode: number): void {
  const broker = peer.broker;
  const session = peer.session!;
  const v5 = peer.protocolVersion === 5;
  const inflight = session.inflight;
  switch (type) {
    case PT.PUBACK: {
      const entry = inflight?.get(id);
      if (entry !== undefined && entry.qos === 1) {
        inflight!.delete(id);
        if (entry.ref !== null) broker.cluster!.acknowledge(session, entry.ref);
        broker.delivery.drain(session);
      }
      return;
    }
    case PT.PUBREC: {
      const entry = inflight?.get(id);
      if (entry === undefined || entry.qos !== 2) {
        peer.write(encodeAck(PT.PUBREL, id, RC.PACKET_ID_NOT_FOUND, v5));
        return;
      }
      // Received: it leaves the durable queue now, so a session resumed elsewhere does not get it twice.
      if (entry.ref !== null && entry.phase === 0) broker.cluster!.acknowledge(session, entry.ref);
      if (v5 && reasonCode >= 0x80) {
        // The receiver refused it: the QoS 2 flow ends here, no PUBREL (5.0 §4.3.3).
        inflight!.delete(id);
        broker.delivery.drain(session);
        return;
      }
      entry.phase = 1;
      peer.write(encodeAck(PT.PUBREL, id, 0, v5));
      return;
    }
    case PT.PUBCOMP: {
      const entry = inflight?.get(id);
      if (entry !== undefined && entry.phase === 1) {
        inflight!.delete(id);
        broker.delivery.drain(session);
      }
      return;
    }
    case PT.PUBREL: {
      const known = session.awaitingRel?.delete(id) === true;
      if (session.awaitingRel !== null && session.awaitingRel.size === 0) session.awaitingRel = null;
      peer.write(encodeAck(PT.PUBCOMP, id, known ? 0 : RC.PACKET_ID_NOT_FOUND, v5));
      return;
    }
  }
}
