import type { AuditEntryContent } from "../../src/audit/audit-entry.js";
import { EMPTY_CONTENT } from "../../src/audit/audit-entry.js";

export const T0 = 1_750_000_000_000;

/** A decision's chain content; `n` varies the time, request id and decision id. */
export function decisionContent(n: number, over: Partial<AuditEntryContent> = {}): AuditEntryContent {
  return {
    ...EMPTY_CONTENT,
    kind: "DECISION",
    occurredAt: T0 + n,
    tenantId: "acme",
    learnerId: "",
    actor: "svc-1",
    requestId: `req-${n}`,
    decisionId: `dec-${n}`,
    operation: "READ",
    resourceType: "document",
    resourceId: `doc-${n}`,
    requestedRegion: "us-west",
    targetRegion: "us-west",
    callerRegion: "us-east",
    primaryRegion: "us-east",
    allowed: true,
    reasonCodes: ["ALLOWED_REGION"],
    policyId: "pol_1",
    policyVersion: 1,
    snapshotVersion: 7,
    ...over,
  };
}

/** A denied decision with one GDPR violation and one pinning violation. */
export function deniedContent(n: number, over: Partial<AuditEntryContent> = {}): AuditEntryContent {
  return decisionContent(n, {
    allowed: false,
    requestedRegion: "apac-south",
    targetRegion: "apac-south",
    reasonCodes: ["REGION_NOT_ALLOWED", "GDPR_TRANSFER_NO_BASIS"],
    violations: [
      { framework: "", reasonCode: "REGION_NOT_ALLOWED" },
      { framework: "GDPR", reasonCode: "GDPR_TRANSFER_NO_BASIS" },
    ],
    ...over,
  });
}
