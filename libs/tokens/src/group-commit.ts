import { currentDeadline, DeadlineExceededError, isDatabaseUnavailable, runWithDeadline, tooLateToCommit } from '@signet/persistence';

/**
 * Runs one statement (or transaction) per batch: gets the rows and answers,
 * per row and in order (a write: whether it was written), once committed.
 */
export type BatchStatement<Row, Result> = (rows: readonly Row[]) => Promise<Result[]>;

interface Pending<Row, Result> {
  row: Row;
  deadline: number | undefined;
  resolve: (result: Result) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: concurrent writes (or reads) share one statement. One waits only
 * while `maxInFlight` batches are already on their way; those that arrive
 * meanwhile go together in the next batch (at most `maxBatch` rows), so an
 * idle process sends each write at once and a busy one sends one statement
 * per batch instead of one per request.
 *
 * A row is sent only while its request's deadline leaves time to commit
 * (as `inTransaction` does for COMMIT); one that waited too long is refused
 * with DeadlineExceededError, unsent. A batch runs under the earliest
 * deadline of its rows. A batch PostgreSQL refused is tried again row by
 * row, so one bad row fails only its own request.
 */
export class GroupCommit<Row, Result = boolean> {
  private readonly queue: Pending<Row, Result>[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: BatchStatement<Row, Result>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 64,
  ) {}

  submit(row: Row): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ row, deadline: currentDeadline(), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const now = Date.now();
      const batch: Pending<Row, Result>[] = [];
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

  private async flush(batch: Pending<Row, Result>[]): Promise<void> {
    try {
      // Under the earliest deadline of its rows: a transaction in `run` commits only while that still allows.
      const deadlines = batch.map((p) => p.deadline).filter((d): d is number => d !== undefined);
      const earliest = deadlines.length > 0 ? Math.min(...deadlines) : undefined;
      const results = await runWithDeadline(earliest, () => this.run(batch.map((p) => p.row)));
      batch.forEach((p, i) => p.resolve(results[i]));
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
