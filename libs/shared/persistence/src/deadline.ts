import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The moment by which the current unit of work (an HTTP request) must be
 * answered, carried through its async calls. Work that is still running past
 * it has a caller who has already been told "503" and moved on, so it must
 * not take effect: {@link inTransaction} rolls back instead of committing.
 */
const deadlines = new AsyncLocalStorage<number | undefined>();

/** Runs `fn` with a deadline (epoch ms; undefined: none) visible to every async call it makes. */
export function runWithDeadline<T>(deadlineAt: number | undefined, fn: () => T): T {
  return deadlines.run(deadlineAt, fn);
}

/** The deadline (epoch ms) of the work in progress, if it has one. */
export function currentDeadline(): number | undefined {
  return deadlines.getStore();
}

/** Thrown by work that would have finished past its deadline; nothing it started was committed. */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED';

  constructor(message = 'deadline exceeded; the work was abandoned and rolled back') {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}
