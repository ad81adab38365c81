import type { AuditLogger } from "./audit-logger.js";

/** At most one "shedding" warning per this many milliseconds. */
const SHED_LOG_INTERVAL_MS = 10_000;

/**
 * Counts the decisions shed because the audit queue was full: every one in the metric, and a warning at most
 * every ten seconds in the log (with how many were shed since the last one), so an overload does not flood it.
 */
export function createShedReporter(queueMax: number, countAuditShed: () => void, logger: AuditLogger): () => void {
  let shed = 0;
  let shedLoggedAt = 0;
  let shedAtLastLog = 0;
  return () => {
    shed++;
    countAuditShed();
    const now = Date.now();
    if (now - shedLoggedAt >= SHED_LOG_INTERVAL_MS) {
      logger.warn(
        { queue_max: queueMax, shed_since_last_warning: shed - shedAtLastLog, shed_total: shed },
        "audit queue full: shedding decisions with UNAVAILABLE until the audit writer catches up",
      );
      shedLoggedAt = now;
      shedAtLastLog = shed;
    }
  };
}
