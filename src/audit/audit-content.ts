import type { AuditEntryContent } from "./audit-entry.js";
import { EMPTY_CONTENT } from "./audit-entry.js";
import type { AdminAuditRecord, AuditRecord, DecisionAuditRecord } from "./audit-record.js";
import { violationsOf } from "./violations-of.js";

/**
 * The chain contents of one record, in order: one entry, or for a decision an emergency override allowed, the
 * DECISION entry then an OVERRIDE_USED entry naming the override. Runs in the writer, off the decision path.
 */
export function contentsOf(record: AuditRecord, out: AuditEntryContent[]): void {
  if (record.kind !== "DECISION") {
    out.push(adminContent(record));
    return;
  }
  const decision = decisionContent(record);
  out.push(decision);
  if (decision.overrideId !== "") out.push({ ...decision, kind: "OVERRIDE_USED", subjectId: decision.overrideId, violations: [] });
}

export function adminContent(r: AdminAuditRecord): AuditEntryContent {
  return {
    ...EMPTY_CONTENT,
    kind: r.kind,
    occurredAt: r.time,
    tenantId: text(r.tenantId),
    learnerId: text(r.learnerId),
    actor: text(r.actor),
    requestId: text(r.requestId),
    subjectId: text(r.subjectId),
    beforeJson: text(r.beforeJson),
    afterJson: text(r.afterJson),
  };
}

function decisionContent(r: DecisionAuditRecord): AuditEntryContent {
  return {
    kind: "DECISION",
    occurredAt: r.time,
    tenantId: text(r.tenantId),
    learnerId: text(r.learnerId),
    actor: text(r.actor),
    requestId: text(r.requestId),
    subjectId: "",
    beforeJson: "",
    afterJson: "",
    decisionId: r.decisionId,
    operation: r.operation,
    resourceType: text(r.resourceType),
    resourceId: text(r.resourceId),
    requestedRegion: text(r.requestedRegion),
    targetRegion: r.targetRegion,
    callerRegion: text(r.callerRegion),
    primaryRegion: r.primaryRegion,
    allowed: r.allowed,
    reasonCodes: r.reasons.map((reason) => reason.code),
    policyId: r.policyId,
    policyVersion: r.policyVersion,
    snapshotVersion: r.snapshotVersion,
    overrideId: r.overrideId,
    violations: violationsOf(r),
  };
}

/** NUL and lone surrogates, which PostgreSQL text cannot hold (and UTF-8 cannot encode). */
const UNSTORABLE = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE_OR_NUL = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as every database stores and returns it unchanged, so a stored entry hashes as it did when written:
 * NUL and unpaired surrogates (only a JSON request can carry them) become U+FFFD. Valid pairs are kept.
 */
export function text(value: string): string {
  if (!UNSTORABLE.test(value)) return value;
  return value.replace(LONE_SURROGATE_OR_NUL, "\ufffd");
}
