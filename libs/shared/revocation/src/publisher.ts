import { consoleRevocationLogger, type RevocationBus, type RevocationEvent, type RevocationLogger } from './types';

/** One revocation to record, whatever the credential kind (token, API key, directory user, certificate, webhook). */
export interface Revocation {
  /** The ids edges match sessions and CONNECTs by: token jtis, API key ids, … */
  credentialIds: readonly string[];
  /** ms epoch after which every listed credential has expired anyway, so the deny entry may go. */
  until: number;
  /** Why, e.g. 'token_revoked', 'api_key_rotated': recorded and published as is. */
  reason: string;
  /** The org the credentials belong to, where there is one: for the logs (edges match by credential id). */
  orgId?: string;
}

/**
 * The durable side of revocation, inside the caller's transaction `Tx`
 * (the `revocations` table: RevocationStore in @signet/persistence).
 */
export interface RevocationLog<Tx> {
  /** Appends inside `tx`; the event carries the entry's seq and time. */
  append(tx: Tx, revocation: Revocation): Promise<RevocationEvent>;
  /** Runs `callback` once `tx` has committed, never if it rolls back. */
  afterCommit(tx: Tx, callback: () => Promise<void>): void;
}

export interface RevocationPublisherOptions<Tx> {
  bus: RevocationBus;
  log: RevocationLog<Tx>;
  logger?: RevocationLogger;
  now?: () => number;
}

/**
 * The one way a credential is revoked (ARCHITECTURE §6): recorded in the
 * caller's transaction, so it commits or rolls back with the caller's own
 * updates, and handed to the bus once that commit is done. The caller does
 * not wait for the bus: the log entry is the outbox (the Redis bus marks it
 * published, and its relay publishes what no process did), so a revoke
 * answers once committed even while Redis is down. A publish that fails is
 * logged, never thrown.
 */
export class RevocationPublisher<Tx> {
  private readonly bus: RevocationBus;
  private readonly log: RevocationLog<Tx>;
  private readonly logger: RevocationLogger;
  private readonly now: () => number;

  constructor(options: RevocationPublisherOptions<Tx>) {
    this.bus = options.bus;
    this.log = options.log;
    this.logger = options.logger ?? consoleRevocationLogger;
    this.now = options.now ?? Date.now;
  }

  /**
   * Records `revocation` in `tx` and publishes it once `tx` commits. Returns
   * the recorded event, or null when there is nothing to enforce (no ids, or
   * every credential has expired already).
   */
  async record(tx: Tx, revocation: Revocation): Promise<RevocationEvent | null> {
    if (revocation.credentialIds.length === 0 || revocation.until <= this.now()) return null;
    const event = await this.log.append(tx, revocation);
    this.log.afterCommit(tx, () => this.publishCommitted(event, revocation.orgId));
    return event;
  }

  /**
   * Hands the bus an event whose log entry is already committed (appended by a
   * statement of the caller's own that ran as its own transaction), without
   * waiting for it: the in-process edge has it when this returns (the bus
   * delivers to local handlers synchronously), other edges once the bus has
   * published it. Never throws.
   */
  async publishCommitted(event: RevocationEvent, orgId?: string): Promise<void> {
    let published: Promise<void>;
    try {
      published = this.bus.publish(event);
    } catch (err) {
      published = Promise.reject(err);
    }
    published.catch((err: unknown) => {
      // Committed already: the bus keeps retrying, and its relay publishes it from the log otherwise.
      this.logger.error(
        { err, seq: event.seq, reason: event.reason, count: event.credentialIds.length, ...(orgId === undefined ? {} : { orgId }) },
        'revocation committed but not published yet; the outbox relay will publish it',
      );
    });
  }
}
