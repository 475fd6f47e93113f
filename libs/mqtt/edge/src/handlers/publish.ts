import type { IPublishPacket } from 'mqtt-packet';
import { topicNameProblem } from '@signet/permissions';
import { encodeAck } from '../codec/codec';
import { PT, RC } from '../core/codes';
import { topicOverLimits } from '../core/limits';
import { forwardedProperties, ownPayload, type Message } from '../core/message';
import { isReservedTopic } from '../core/reserved';
import { onReservedPublish } from './auth';
import type { Peer } from './peer';

/** A PUBLISH from a connected client: checked, permitted, retained and routed, then acknowledged. */
export function onPublish(peer: Peer, packet: IPublishPacket): void {
  const broker = peer.broker;
  const session = peer.session!;
  const principal = peer.principal!;
  const v5 = peer.protocolVersion === 5;
  const qos = packet.qos;
  const id = packet.messageId ?? 0;
  // QoS > 0 needs a non-zero packet identifier [MQTT-2.2.1-3].
  if (qos > 0 && id === 0) return peer.protocolError();
  const props = packet.properties;
  let topic = packet.topic;
  if (v5 && props !== undefined && props.topicAlias !== undefined) {
    // Topic Alias (§3.3.2.3.4): 0 or above the Topic Alias Maximum we sent is DISCONNECT 0x94 [MQTT-3.3.2-8], [MQTT-3.3.2-9].
    const alias = props.topicAlias;
    if (alias === 0 || alias > broker.limits.maxTopicAliases) return peer.protocolError(RC.TOPIC_ALIAS_INVALID);
    if (topic.length === 0) {
      // An empty Topic Name uses the alias' mapping; none on this connection is a protocol error (§3.3.4).
      const mapped = peer.aliases?.get(alias);
      if (mapped === undefined) return peer.protocolError();
      topic = packet.topic = mapped;
    } else {
      // A Topic Name with an alias sets (or replaces) the mapping (§3.3.2.3.4).
      (peer.aliases ??= new Map()).set(alias, topic);
    }
  }
  // No wildcards, not empty, no U+0000 [MQTT-3.3.2-2], [MQTT-4.7.3-1].
  if (topicNameProblem(topic) !== null) return peer.protocolError(RC.TOPIC_NAME_INVALID);
  // Beyond maxTopicLength/maxTopicLevels: handled as an unacceptable topic name, for every QoS (QoS 0
  // has no PUBACK to carry 0x90), so the client learns of it: 5.0 DISCONNECT 0x90, 3.1.1 closed.
  if (topicOverLimits(topic, broker.limits)) return peer.protocolError(RC.TOPIC_NAME_INVALID);
  broker.counters.messagesIn++;
  // `$signet/…` is the edge's own namespace (token refresh): handled by auth.ts, never routed or retained.
  if (isReservedTopic(topic)) {
    const code = onReservedPublish(peer, packet);
    if (qos === 1) peer.write(encodeAck(PT.PUBACK, id, code, v5));
    else if (qos === 2) {
      // The QoS 2 flow completes normally: its PUBREL finds the id (§4.3.3).
      if (code < 0x80) (session.awaitingRel ??= new Set()).add(id);
      peer.write(encodeAck(PT.PUBREC, id, code, v5));
    }
    return;
  }

  let awaiting = session.awaitingRel;
  if (qos === 2 && awaiting !== null && awaiting.has(id)) {
    // A re-sent QoS 2 PUBLISH we already hold: acknowledge again, never deliver it twice (§4.3.3).
    peer.write(encodeAck(PT.PUBREC, id, 0, v5));
    return;
  }

  if (!principal.permissions.canPublish(topic)) {
    broker.counters.publishDenied++;
    const hook = broker.hooks.publishDenied;
    if (hook !== undefined) hook({ principal, clientId: session.clientId, topic });
    // Dropped. 5.0 says so with 0x87 [MQTT-3.4.2]; 3.1.1 has no negative acknowledgement, so the
    // usual broker behaviour (Mosquitto) is to acknowledge normally and drop.
    if (qos === 1) peer.write(encodeAck(PT.PUBACK, id, RC.NOT_AUTHORIZED, v5));
    else if (qos === 2) {
      if (!v5) {
        if (awaiting === null) awaiting = session.awaitingRel = new Set();
        awaiting.add(id);
      }
      peer.write(encodeAck(PT.PUBREC, id, RC.NOT_AUTHORIZED, v5));
    }
    return;
  }

  if (qos === 2) {
    if (awaiting === null) awaiting = session.awaitingRel = new Set();
    // More unreleased QoS 2 messages than our Receive Maximum (5.0 §3.3.4).
    if (awaiting.size >= broker.limits.maxInflight) {
      return peer.protocolError(RC.RECEIVE_MAXIMUM_EXCEEDED, 'receive_maximum_exceeded');
    }
    awaiting.add(id);
  }

  const raw = packet.payload;
  let payload = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  // Positional arguments: no event object on the hot path.
  const published = broker.hooks.published;
  if (published !== undefined) published(principal, payload.length);
  if (qos > 0 || packet.retain) payload = ownPayload(payload);
  const expiry = v5 ? props?.messageExpiryInterval : undefined;
  const message: Message = {
    topic,
    payload,
    qos,
    retain: packet.retain,
    properties: v5 ? forwardedProperties(props) : undefined,
    expiresAt: expiry !== undefined ? broker.clock + expiry * 1000 : Infinity,
  };
  const stored = broker.delivery.publish(session, message);
  if (qos === 0) return;
  if (stored === null) return peer.write(encodeAck(qos === 1 ? PT.PUBACK : PT.PUBREC, id, 0, v5));
  stored.then(
    (code) => {
      if (!peer.isConnected()) return;
      // 3.1.1 has no negative PUBACK: the connection closes unacknowledged, so the client sends it again.
      if (code !== 0 && !v5) return peer.kick(RC.UNSPECIFIED, 'internal_error', true);
      peer.write(encodeAck(qos === 1 ? PT.PUBACK : PT.PUBREC, id, code, v5));
    },
    (err: unknown) => broker.logger.error({ err }, 'mqtt edge publish failed'),
  );
}
