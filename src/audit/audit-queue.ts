import type { AuditRecord } from "./audit-record.js";

/**
 * A bounded FIFO of records on a ring buffer: `offer` is a few array and integer operations, no allocation.
 * `held` counts records the writer took but could not yet put anywhere durable; they count against the bound,
 * so memory stays bounded whatever the database and the disk do.
 */
export interface AuditQueue {
  /** False when full. Calls `onBatchReady` when the queue reaches one batch. */
  offer(record: AuditRecord): boolean;
  /** Removes and returns up to `max` records, oldest first. */
  take(max: number): AuditRecord[];
  readonly size: number;
  readonly capacity: number;
  held: number;
}

export function createAuditQueue(capacity: number, batchSize: number, onBatchReady: () => void): AuditQueue {
  const ring: (AuditRecord | undefined)[] = new Array(capacity);
  let head = 0;
  let count = 0;
  return {
    held: 0,
    offer(record) {
      if (count + this.held >= capacity) return false;
      let tail = head + count;
      if (tail >= capacity) tail -= capacity;
      ring[tail] = record;
      count++;
      if (count === batchSize) onBatchReady();
      return true;
    },
    take(max) {
      const n = Math.min(max, count);
      const out = new Array<AuditRecord>(n);
      for (let i = 0; i < n; i++) {
        out[i] = ring[head]!;
        ring[head] = undefined;
        head = head + 1 === capacity ? 0 : head + 1;
      }
      count -= n;
      return out;
    },
    get size() {
      return count;
    },
    capacity,
  };
}
