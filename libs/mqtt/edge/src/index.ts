export { MqttEdge } from './edge';
export type {
  DisconnectReason,
  EdgeHooks,
  EdgeLogger,
  EdgeOptions,
  EdgeStats,
  SubscribeDenial,
  TransportKind,
} from './types';
export { DEFAULT_LIMITS, type EdgeLimits } from './limits';
export type { TlsFiles } from './tls';
export { RC as REASON_CODES, CONNACK_V4 } from './codes';
export type { ProtocolVersion } from './codec';
export * from './principal';
