import type { ISubscribePacket, IUnsubscribePacket, QoS } from 'mqtt-packet';
import { topicFilterProblem } from '@signet/permissions';
import { encode } from '../codec/codec';
import { RC } from '../core/codes';
import { topicOverLimits } from '../core/limits';
import { innerFilter, SHARE_PREFIX, shareName, type Message, type SubscriptionOptions } from '../core/message';
import { ackSize } from '../core/outbound';
import { RESULT_TOPIC } from '../core/reserved';
import type { SubscribeDenial } from '../core/types';
import type { Peer } from './peer';

/** SUBSCRIBE: each filter checked, permitted and filed; SUBACK, then the matching retained messages. */
export function onSubscribe(peer: Peer, packet: ISubscribePacket): void {
  const broker = peer.broker;
  const session = peer.session!;
  const principal = peer.principal!;
  const v5 = peer.protocolVersion === 5;
  const subs = packet.subscriptions;
  // A SUBSCRIBE needs a packet identifier and at least one filter [MQTT-2.2.1-3], [MQTT-3.8.3-3].
  if (!packet.messageId || packet.messageId < 0 || subs.length === 0) return peer.protocolError();
  if (v5) {
    // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4]: checked before any filter takes effect.
    for (const sub of subs) if (sub.nl === true && sub.topic.startsWith(SHARE_PREFIX)) return peer.protocolError();
  }
  // Subscription Identifier (§3.8.2.1.2): 0, or more than one, is a protocol error; one array for every
  // filter of the packet.
  const subId: unknown = v5 ? packet.properties?.subscriptionIdentifier : undefined;
  if (subId !== undefined && (typeof subId !== 'number' || subId <= 0)) return peer.protocolError();
  const ids: readonly number[] | null = subId !== undefined ? [subId] : null;
  // A SUBACK beyond the client's Maximum Packet Size cannot be sent [MQTT-3.1.2-24], and the client would wait
  // for it forever: nothing takes effect and the connection is closed with DISCONNECT 0x95 (4 bytes, always fits).
  if (v5 && ackSize(subs.length) > peer.clientMaxPacket) return peer.protocolError(RC.PACKET_TOO_LARGE, 'packet_too_large');
  const limit = broker.limits.maxSubscriptionsPerSession;
  const granted: number[] = [];
  let retainedFor: [string, SubscriptionOptions][] | null = null;
  for (const sub of subs) {
    const filter = sub.topic;
    const shared = filter.startsWith(SHARE_PREFIX);
    // 5.0 Shared Subscription: the ShareName must be valid [MQTT-4.8.2-1], [MQTT-4.8.2-2]; the filter after
    // it is what is checked, permitted and matched. 3.1.1 has no shared subscriptions (0x80, unchanged).
    const matched = shared && v5 && shareName(filter) !== null ? innerFilter(filter) : filter;
    let denial: SubscribeDenial | null = null;
    let code: number;
    // Beyond maxTopicLength/maxTopicLevels the filter is refused like a malformed one; the rest of the SUBSCRIBE stands.
    if (topicFilterProblem(matched) !== null || topicOverLimits(filter, broker.limits) || (shared && v5 && matched === filter)) {
      denial = 'invalid_filter';
      code = v5 ? RC.TOPIC_FILTER_INVALID : 0x80;
    } else if (shared && !v5) {
      denial = 'shared_subscription';
      code = 0x80;
    } else if (filter !== RESULT_TOPIC && !principal.permissions.canSubscribe(matched)) {
      // RESULT_TOPIC: every session may hear its own refresh results; nothing else is ever routed there.
      denial = 'not_authorized';
      code = v5 ? RC.NOT_AUTHORIZED : 0x80;
    } else {
      let own = session.subscriptions;
      const existed = own !== null && own.has(filter);
      if (!existed && own !== null && own.size >= limit) {
        denial = 'quota_exceeded';
        code = v5 ? RC.QUOTA_EXCEEDED : 0x80;
      } else {
        const options: SubscriptionOptions = {
          qos: sub.qos,
          nl: v5 && sub.nl === true,
          rap: v5 && sub.rap === true,
          rh: v5 ? (sub.rh ?? 0) : 0,
          ids,
        };
        // A subscription to the same filter replaces the existing one [MQTT-3.8.4-3].
        if (own === null) own = session.subscriptions = new Map();
        own.set(filter, options);
        session.org.subscribe(session, filter, options);
        if (session.stored) broker.cluster!.storeSubscription(session, filter, options);
        code = sub.qos;
        // Retained messages are not sent for a new shared subscription (§4.8.2).
        if (!shared && (options.rh === 0 || (options.rh === 1 && !existed))) {
          if (retainedFor === null) retainedFor = [];
          retainedFor.push([filter, options]);
        }
      }
    }
    if (denial !== null) {
      broker.counters.subscribeDenied++;
      const hook = broker.hooks.subscribeDenied;
      if (hook !== undefined) hook({ principal, clientId: session.clientId, filter, reason: denial });
    }
    granted.push(code);
  }
  const suback = encode({ cmd: 'suback', messageId: packet.messageId, granted }, peer.protocolVersion);
  if (suback !== null) peer.write(suback);
  if (retainedFor !== null && broker.cluster?.retained !== undefined) {
    // The cluster's shared store: the matching retained messages follow once it answers.
    broker.cluster.sendRetained(session, retainedFor);
  } else if (retainedFor !== null) {
    // Matching retained messages follow the SUBACK, with RETAIN set [MQTT-3.3.1-6], [MQTT-3.3.1-8].
    const retained = session.org.retained;
    const expired: Message[] = [];
    for (const [filter, options] of retainedFor) {
      retained.match(filter, (message) => {
        if (message.expiresAt <= broker.clock) {
          expired.push(message);
          return;
        }
        const qos = (options.qos < message.qos ? options.qos : message.qos) as QoS;
        broker.delivery.deliver(session, message, qos, true, options.ids);
      });
    }
    // Expired retained messages are purged when a subscription finds them.
    for (const m of expired) retained.set({ ...m, payload: Buffer.alloc(0) }, Infinity);
  }
}

/** UNSUBSCRIBE: each filter removed when held; UNSUBACK. */
export function onUnsubscribe(peer: Peer, packet: IUnsubscribePacket): void {
  const session = peer.session!;
  const filters = packet.unsubscriptions;
  if (!packet.messageId || packet.messageId < 0 || filters.length === 0) return peer.protocolError(); // [MQTT-3.10.3-2]
  // As for SUBACK: an UNSUBACK that cannot fit the client's Maximum Packet Size [MQTT-3.1.2-24] is DISCONNECT 0x95, nothing removed.
  if (peer.protocolVersion === 5 && ackSize(filters.length) > peer.clientMaxPacket) return peer.protocolError(RC.PACKET_TOO_LARGE, 'packet_too_large');
  const codes: number[] = [];
  for (const filter of filters) {
    const existed = session.subscriptions !== null && session.subscriptions.delete(filter);
    if (existed) {
      session.org.unsubscribe(session, filter);
      if (session.stored) peer.broker.cluster!.storeSubscription(session, filter, null);
    }
    codes.push(existed ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
  }
  if (peer.protocolVersion === 5) {
    const buf = encode({ cmd: 'unsuback', messageId: packet.messageId, granted: codes }, 5);
    if (buf !== null) peer.write(buf);
  } else {
    // UNSUBACK is sent even when nothing was subscribed [MQTT-3.10.4-5].
    const buf = Buffer.allocUnsafe(4);
    buf[0] = 0xb0;
    buf[1] = 2;
    buf.writeUInt16BE(packet.messageId, 2);
    peer.write(buf);
  }
}
