import type { ViolationContent } from "./audit-entry.js";
import type { AuditedReason } from "./audit-record.js";

const NONE: readonly ViolationContent[] = Object.freeze([]);

/**
 * The violations of a decision: on a deny, one per denying framework rule, and one per denying cross-region
 * pinning rule (REGION_PROHIBITED, REGION_NOT_ALLOWED; framework ""). A deny for another cause (no policy, a
 * region that is down, no compliant inference provider without a framework) is recorded, but not a violation.
 */
export function violationsOf(decision: { readonly allowed: boolean; readonly reasons: readonly AuditedReason[] }): readonly ViolationContent[] {
  if (decision.allowed) return NONE;
  let out: ViolationContent[] | undefined;
  for (const reason of decision.reasons) {
    if (reason.effect !== "DENY") continue;
    if (reason.framework === undefined && reason.code !== "REGION_PROHIBITED" && reason.code !== "REGION_NOT_ALLOWED") continue;
    (out ??= []).push({ framework: reason.framework ?? "", reasonCode: reason.code });
  }
  return out ?? NONE;
}
