import { currentDeadline, DeadlineExceededError, isDatabaseUnavailable, retryingStatement, tooLateToCommit } from '@signet/persistence';

/**
 * Writes one statement per batch: `write` gets the rows and answers, per row
 * and in order, whether it was written. The statement commits by itself, so
 * a row's promise settles only once its row is committed (or refused).
 */
export type BatchWrite<Row> = (rows: readonly Row[]) => Promise<boolean[]>;

interface Pending<Row> {
  row: Row;
  deadline: number | undefined;
  resolve: (written: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: concurrent writes share one statement. A write waits only
 * while `maxInFlight` batches are already on their way; those that arrive
 * meanwhile go together in the next batch (at most `maxBatch` rows), so an
 * idle process sends each write at once and a busy one sends one statement
 * per batch instead of one per request.
 *
 * A row is sent only while its request's deadline leaves time to commit
 * (as `inTransaction` does for COMMIT); one that waited too long is refused
 * with DeadlineExceededError, unsent. A batch PostgreSQL refused is tried
 * again row by row, so one bad row fails only its own request.
 */
export class GroupCommit<Row> {
  private readonly queue: Pending<Row>[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: BatchWrite<Row>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 64,
  ) {}

  submit(row: Row): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ row, deadline: currentDeadline(), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const now = Date.now();
      const batch: Pending<Row>[] = [];
      while (batch.length < this.maxBatch && this.queue.length > 0) {
        const next = this.queue.shift()!;
        if (tooLateToCommit(next.deadline, now)) next.reject(new DeadlineExceededError());
        else batch.push(next);
      }
      if (batch.length === 0) continue;
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending<Row>[]): Promise<void> {
    try {
      const written = await retryingStatement(() => this.write(batch.map((p) => p.row)));
      batch.forEach((p, i) => p.resolve(written[i] === true));
    } catch (err) {
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Nothing of the batch was written (one statement): each row on its own, so only a bad row fails.
      await Promise.all(batch.map((p) => this.flush([p])));
    }
  }
}
