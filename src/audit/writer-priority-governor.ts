/**
 * When the audit writer thread runs under SCHED_IDLE (AUDIT_WRITER_SCHED=auto), it only gets a core nothing else
 * wants. That keeps it off the decision thread's way, but on a host whose cores are all busy it would get almost no
 * CPU: records would pile up until decisions are shed. The governor watches the ring and says when to raise the
 * writer to normal scheduling (records waiting and none made durable for `stallMs`; `behindDepth` records waiting
 * however many it writes, since a SCHED_IDLE thread on a busy host still gets a sliver of a core, enough to write
 * now and then but not to keep up; or someone waiting for the writer: a flush, the shutdown) and when to lower it
 * again (raised for at least the hold time and caught up). A writer that starves again soon after it was lowered is
 * held raised twice as long each time (up to 32 × `holdMs`), so that a host busy for good does not see it flap
 * between the policies every few seconds.
 *
 * Pure: the caller feeds it the time and the ring's counters, applies the changes it returns, and reports back.
 */

export type WriterPriority = "idle" | "normal";

export interface PriorityChange {
  readonly to: WriterPriority;
  /** For the log line: why. */
  readonly reason: string;
  /** "stalled" for a raise because records waited, "demand" for one because someone waits, "caught-up" for a lowering. */
  readonly cause: "stalled" | "demand" | "caught-up";
}

export interface WriterPriorityGovernorOptions {
  /** Records waiting this long with none made durable raise the writer. */
  readonly stallMs: number;
  /** The least time the writer stays raised before it may go back to SCHED_IDLE (doubled on repeated stalls). */
  readonly holdMs: number;
  /** At most this many records waiting counts as caught up. */
  readonly caughtUpDepth: number;
  /** This many records waiting raise the writer even while it writes some (more than caughtUpDepth). */
  readonly behindDepth: number;
}

export interface WriterPriorityGovernor {
  /** The ring's depth and durable counter at `now`; a change to make, if one is due. */
  observe(now: number, depth: number, durableRecords: number): PriorityChange | undefined;
  /** Someone waits for the writer (`why`): a raise, unless it is raised already. */
  demand(now: number, why: string): PriorityChange | undefined;
  /** The change returned last was made. Until then (or `failed`), no other change is returned. */
  applied(now: number): void;
  /** The change returned last could not be made: the priority stays as it was. */
  failed(): void;
  readonly priority: WriterPriority;
  /** How long a raise now lasts at least, in ms. */
  readonly holdMs: number;
}

/** The longest hold, in multiples of `holdMs`. */
const MAX_HOLD_FACTOR = 32;

/** A governor for a writer that starts under SCHED_IDLE. */
export function createWriterPriorityGovernor(options: WriterPriorityGovernorOptions): WriterPriorityGovernor {
  let priority: WriterPriority = "idle";
  let pending: PriorityChange | undefined;
  let raisedAt = 0;
  let loweredAt: number | undefined;
  let hold = options.holdMs;
  let lastDurable: number | undefined;
  /** When records were last seen leaving (or the ring empty): a stall is measured from here. */
  let progressAt = 0;

  function propose(change: PriorityChange): PriorityChange {
    pending = change;
    return change;
  }

  return {
    observe(now, depth, durableRecords) {
      if (durableRecords !== lastDurable || depth === 0) progressAt = now;
      lastDurable = durableRecords;
      if (pending !== undefined) return undefined;
      const waited = now - progressAt;
      const stalled = depth > 0 && waited >= options.stallMs;
      if (priority === "idle" && (stalled || depth >= options.behindDepth)) {
        // Starved again within two holds of being lowered: the host is busy for longer than the last hold.
        hold = loweredAt !== undefined && now - loweredAt < 2 * hold ? Math.min(2 * hold, MAX_HOLD_FACTOR * options.holdMs) : options.holdMs;
        const reason = stalled ? `${depth} records waited ${Math.round(waited)} ms with none written` : `${depth} records waiting: falling behind`;
        return propose({ to: "normal", cause: "stalled", reason });
      }
      if (priority === "normal" && now - raisedAt >= hold && depth <= options.caughtUpDepth) {
        return propose({ to: "idle", cause: "caught-up", reason: `${depth} records waiting after ${Math.round(now - raisedAt)} ms raised` });
      }
      return undefined;
    },
    demand(now, why) {
      if (priority === "normal") {
        // Keep it raised while it is waited for.
        raisedAt = Math.max(raisedAt, now);
        return undefined;
      }
      if (pending !== undefined) return undefined;
      // Not a sign of a busy host: the plain hold.
      hold = options.holdMs;
      return propose({ to: "normal", cause: "demand", reason: why });
    },
    applied(now) {
      if (pending === undefined) return;
      priority = pending.to;
      if (priority === "normal") raisedAt = now;
      else loweredAt = now;
      // A lowered writer gets the full stall time before the next raise.
      progressAt = now;
      pending = undefined;
    },
    failed() {
      pending = undefined;
    },
    get priority() {
      return priority;
    },
    get holdMs() {
      return hold;
    },
  };
}
