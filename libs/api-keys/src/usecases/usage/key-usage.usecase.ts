import { Injectable } from '@nestjs/common';

import { HOUR_MS } from '@signet/contracts';

import { invalidKeyInput, KEY_ERRORS } from '../../errors';
import { GetKeyUseCase } from '../get/get-key.usecase';
import type { KeyUsageCommand } from './key-usage.command';
import { DAY_MS, UsageBucket, UsageService } from './usage.service';

/** Bounds what one usage answer may hold. */
export const MAX_USAGE_BUCKETS = 24 * 31;

export type UsageCounts = Omit<UsageBucket, 'start'>;

export interface KeyUsage {
  keyId: string;
  interval: KeyUsageCommand['interval'];
  /** ms epoch: the first bucket's start and the last one's end. */
  from: number;
  to: number;
  buckets: UsageBucket[];
  totals: UsageCounts;
}

function parseInstant(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw invalidKeyInput(KEY_ERRORS.invalidRange, `${name} must be an ISO 8601 date-time`);
  return t;
}

/** A key's usage per hour or day (UTC) over a bounded range, with totals. */
@Injectable()
export class KeyUsageUseCase {
  constructor(
    private readonly keys: GetKeyUseCase,
    private readonly usage: UsageService,
  ) {}

  async execute(command: KeyUsageCommand): Promise<KeyUsage> {
    const { interval } = command;
    const to = parseInstant(command.to, 'to', Date.now());
    const from = parseInstant(command.from, 'from', to - DAY_MS);
    if (from >= to) throw invalidKeyInput(KEY_ERRORS.invalidRange, 'from must be before to');
    const step = interval === 'hour' ? HOUR_MS : DAY_MS;
    if ((to - from) / step > MAX_USAGE_BUCKETS) {
      throw invalidKeyInput(KEY_ERRORS.rangeTooLarge, `at most ${MAX_USAGE_BUCKETS} ${interval}s per request`, { max_buckets: MAX_USAGE_BUCKETS });
    }
    const key = await this.keys.execute({ caller: command.caller, keyId: command.keyId });
    const buckets = await this.usage.query(key.id, from, to, interval);
    const totals = buckets.reduce<UsageCounts>(
      (t, b) => ({
        apiCalls: t.apiCalls + b.apiCalls,
        mqttConnects: t.mqttConnects + b.mqttConnects,
        messagesPublished: t.messagesPublished + b.messagesPublished,
        bytesPublished: t.bytesPublished + b.bytesPublished,
        denials: t.denials + b.denials,
      }),
      { apiCalls: 0, mqttConnects: 0, messagesPublished: 0, bytesPublished: 0, denials: 0 },
    );
    return {
      keyId: key.id,
      interval,
      from: buckets[0]?.start ?? from,
      to: (buckets[buckets.length - 1]?.start ?? to - step) + step,
      buckets,
      totals,
    };
  }
}
