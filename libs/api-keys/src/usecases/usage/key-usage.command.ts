import type { ApiKeyPrincipal } from '../../principal';
import type { UsageInterval } from './usage.service';

export interface KeyUsageCommand {
  caller: ApiKeyPrincipal;
  keyId: string;
  /** ISO 8601; default 24 hours before `to`. */
  from?: string;
  /** ISO 8601; default now. */
  to?: string;
  interval: UsageInterval;
}
