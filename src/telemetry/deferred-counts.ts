import type { Counter, LabelValues } from "prom-client";

/**
 * Increments of one counter's label sets, held as plain numbers and added to the counter when it is
 * collected (a scrape reads every metric through its collect()). prom-client's inc() builds and hashes a
 * label string on every call, a cached label child's too: about 0.35 µs and 300 bytes of garbage per
 * increment, two or three per decision. The label sets reach the counter in the order they were first
 * counted, as direct increments would add them, so the exposition does not change.
 */
export class DeferredCounts<T extends string> {
  private readonly counts: number[] = [];
  private readonly labels: (LabelValues<T> | undefined)[] = [];
  private readonly order: number[] = [];

  /** Whether `slot` has its label set; `add` needs it. */
  has(slot: number): boolean {
    return this.labels[slot] !== undefined;
  }

  define(slot: number, labels: LabelValues<T>): void {
    this.labels[slot] = labels;
    this.counts[slot] = 0;
    this.order.push(slot);
  }

  add(slot: number): void {
    this.counts[slot]! += 1;
  }

  /** For the counter's collect(). */
  flushInto(counter: Counter<T>): void {
    for (const slot of this.order) {
      const count = this.counts[slot]!;
      if (count === 0) continue;
      this.counts[slot] = 0;
      counter.inc(this.labels[slot]!, count);
    }
  }
}
