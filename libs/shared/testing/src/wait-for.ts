export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Re-check this often (default 20 ms). */
  intervalMs?: number;
  /** Included in the timeout error to say what was awaited. */
  message?: string;
}

type Falsy = false | 0 | '' | null | undefined;

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the
 * timeout passes. A throwing/rejecting predicate counts as "not yet", so
 * assertions can be used as predicates; the last failure is reported as the
 * timeout error's cause.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, Falsy>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as Exclude<T, Falsy>;
      lastError = undefined;
    } catch (err: unknown) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = options.message ? `: ${options.message}` : '';
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms${what}${last}`, { cause: lastError });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
  }
}
