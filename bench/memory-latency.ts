// How long one load from a random place in main memory takes on this machine, measured the way a decision
// over a large snapshot meets it: each address depends on the value loaded before (a pointer chase), so the
// CPU can neither prefetch it nor overlap it with the next. decide()'s random-mix latency is a chain of such
// loads (request, tenant map, policy, plan memo, …); the figure lets its p99 be read against the machine:
// the same code measured 2.0–2.5 µs p99 on one VM and 4.6–5.7 µs on another, whose loads were slower.
import { seededRandom } from "./stats.js";

export interface MemoryLatency {
  /** Bytes the chase is spread over. */
  readonly spanBytes: number;
  /** Nanoseconds per dependent load (the mean over the timed hops, loop overhead included). */
  readonly nsPerLoad: number;
}

const CACHE_LINE_BYTES = 64;
const INTS_PER_LINE = CACHE_LINE_BYTES / 4;

/**
 * A chase through every cache line of `spanBytes` once, in one random cycle (Sattolo's shuffle), so each hop
 * lands on a line, and mostly a page, that the hops before have not brought in.
 */
export function measureMemoryLatency(spanBytes = 256 * 2 ** 20, hops = 2_000_000, seed = 7): MemoryLatency {
  const lines = spanBytes / CACHE_LINE_BYTES;
  const order = new Int32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  const random = seededRandom(seed);
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(random() * i); // j < i: Sattolo's variant, which leaves a single cycle
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  // Line k points to line order[k]: following the pointers walks the one cycle through every line.
  const next = new Int32Array(spanBytes / 4);
  for (let k = 0; k < lines; k++) next[k * INTS_PER_LINE] = order[k]! * INTS_PER_LINE;

  let at = 0;
  for (let i = 0; i < hops / 4; i++) at = next[at]!; // warm-up: the loop compiled, the TLB as busy as it gets
  const started = process.hrtime.bigint();
  for (let i = 0; i < hops; i++) at = next[at]!;
  const elapsed = Number(process.hrtime.bigint() - started);
  if (at < 0) throw new Error("unreachable: keeps the chase from being optimised away");
  return { spanBytes, nsPerLoad: elapsed / hops };
}
