export { MqttEdge } from './edge';
export type {
  DisconnectReason,
  EdgeHooks,
  EdgeLogger,
  EdgeOptions,
  EdgeStats,
  SubscribeDenial,
  TransportKind,
} from './core/types';
export { DEFAULT_LIMITS, type EdgeLimits } from './core/limits';
export type { TlsFiles } from './transports/tls';
export { RC as REASON_CODES, CONNACK_V4 } from './core/codes';
export type { ProtocolVersion } from './codec/codec';
export * from './core/principal';
