import type { AuditLogger } from "./audit-logger.js";
import { setThreadPolicy } from "./thread-priority.js";
import { createWriterPriorityGovernor, type PriorityChange, type WriterPriorityGovernor } from "./writer-priority-governor.js";

export interface WriterPriorityControlOptions {
  /** Records written to the ring and not yet durable. */
  readonly depth: () => number;
  /** The ring's count of records made durable (it only grows, modulo 2^32). */
  readonly durableRecords: () => number;
  /** A flush or the shutdown waits for the writer. */
  readonly waitedFor: () => boolean;
  /** The writer's nice value under the normal policy (AUDIT_WRITER_NICE), for the log. */
  readonly nice: number;
  readonly logger: AuditLogger;
  /** The writer was raised because records waited (a metric). */
  readonly countStall?: () => void;
  /** Records waiting this long with none made durable mean the writer is starved. @default 100 */
  readonly stallMs?: number;
  /** The least time a raise lasts (doubled on repeated stalls). @default 2000 */
  readonly holdMs?: number;
  /** @default 64 */
  readonly caughtUpDepth?: number;
  /** Records waiting that raise the writer even while it writes some (the caller derives it from the queue bound). */
  readonly behindDepth: number;
}

/** The decision thread's side of AUDIT_WRITER_SCHED=auto: watches the ring and moves the writer between policies. */
export interface WriterPriorityControl {
  /** Writer thread `tid` runs under SCHED_IDLE and may be raised: govern it (replacing any earlier thread). */
  govern(tid: number): void;
  /** The governed thread is gone. */
  release(): void;
  /** Someone waits for the writer now (`why`, for the log). */
  demand(why: string): void;
  /** The governed thread's policy now; undefined when none is governed. */
  readonly priority: "idle" | "normal" | undefined;
}

const TICK_MS = 250;

interface Governed {
  readonly tid: number;
  readonly governor: WriterPriorityGovernor;
  readonly timer: NodeJS.Timeout;
}

/**
 * Runs the governor (writer-priority-governor.ts) on a timer of this thread, not the writer's: a starved writer
 * would not run its own. The policy is changed with chrt from here, which works for any thread of the process.
 */
export function createWriterPriorityControl(options: WriterPriorityControlOptions): WriterPriorityControl {
  const stallMs = options.stallMs ?? 100;
  const { logger } = options;
  let governed: Governed | undefined;

  function apply(current: Governed, change: PriorityChange): void {
    void setThreadPolicy(current.tid, change.to === "normal" ? "other" : "idle").then((problem) => {
      if (governed !== current) return; // that thread is gone
      if (problem !== undefined) {
        current.governor.failed();
        // Trying again every tick would start a process every few milliseconds: the writer keeps the policy it has.
        logger.error({ tid: current.tid, to: change.to, problem }, "audit writer thread priority could not be changed: no longer governed (AUDIT_WRITER_SCHED=auto)");
        release();
        return;
      }
      current.governor.applied(Date.now());
      if (change.to === "idle") {
        logger.info({ reason: change.reason }, "audit writer thread back under SCHED_IDLE: it caught up");
      } else if (change.cause === "stalled") {
        options.countStall?.();
        logger.warn(
          { reason: change.reason, nice: options.nice, hold_ms: current.governor.holdMs },
          "audit writer thread starved under SCHED_IDLE (every core busy): raised to normal priority until it catches up",
        );
      } else {
        logger.info({ reason: change.reason, nice: options.nice }, "audit writer thread raised to normal priority: it is waited for");
      }
    });
  }

  function tick(current: Governed): void {
    const now = Date.now();
    let change = current.governor.observe(now, options.depth(), options.durableRecords());
    if (change === undefined && options.waitedFor()) change = current.governor.demand(now, "a flush or the shutdown waits for it");
    if (change !== undefined) apply(current, change);
  }

  function release(): void {
    if (governed === undefined) return;
    clearInterval(governed.timer);
    governed = undefined;
  }

  return {
    govern(tid) {
      release();
      logger.info({ tid, nice: options.nice }, "audit writer thread under SCHED_IDLE (AUDIT_WRITER_SCHED=auto): raised to AUDIT_WRITER_NICE whenever it falls behind");
      const caughtUpDepth = options.caughtUpDepth ?? 64;
      const governor = createWriterPriorityGovernor({
        stallMs,
        holdMs: options.holdMs ?? 2_000,
        caughtUpDepth,
        // Not at or below the caught-up depth, where a writer would be raised as soon as it was lowered.
        behindDepth: Math.max(caughtUpDepth + 1, options.behindDepth),
      });
      // At least twice per stall time (a stall is noticed by 1.5 × stallMs after the last progress), and often
      // enough that a raised writer is lowered soon after it may be.
      const timer = setInterval(() => tick(current), Math.max(1, Math.min(TICK_MS, Math.floor(stallMs / 2))));
      timer.unref();
      const current: Governed = { tid, governor, timer };
      governed = current;
    },
    release,
    demand(why) {
      const current = governed;
      if (current === undefined) return;
      const change = current.governor.demand(Date.now(), why);
      if (change !== undefined) apply(current, change);
    },
    get priority() {
      return governed?.governor.priority;
    },
  };
}
