import { setTimeout as sleep } from "node:timers/promises";

/** How long a transaction keeps being retried while it fails transiently (another process holds SQLite's lock, a deadlock). */
const TRANSIENT_RETRY_MS = 5_000;

export interface TransientErrors {
  /** The failed transaction was rolled back and may simply run again. */
  isTransient(err: unknown): boolean;
  /** Database trouble becomes UnavailableError; domain errors and bugs pass through unchanged. */
  toStoreError(err: unknown): unknown;
}

/** Runs `run` again while it fails transiently; each attempt must be a whole transaction, rolled back on failure. */
export async function retryTransient<T>(run: () => Promise<T>, errors: TransientErrors): Promise<T> {
  const deadline = Date.now() + TRANSIENT_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!errors.isTransient(err) || Date.now() >= deadline) throw errors.toStoreError(err);
      await sleep(Math.random() * Math.min(200, 10 * 2 ** attempt)); // jitter, so waiting writers spread out
    }
  }
}
