import type { AuditKind } from "./audit-record.js";

/** One denying rule of a denied decision: a framework rule, or a pinning rule (framework ""). */
export interface ViolationContent {
  /** A Framework name, or "" for the pinning rules (REGION_PROHIBITED, REGION_NOT_ALLOWED). */
  readonly framework: string;
  readonly reasonCode: string;
}

/**
 * What one chain entry says, flat: every kind has every field, unused ones empty ("", 0, null, []). This is what
 * the hash covers (with the position and the previous hash), what the spool holds and what the tables store.
 */
export interface AuditEntryContent {
  readonly kind: AuditKind;
  /** Epoch milliseconds of the event. */
  readonly occurredAt: number;
  readonly tenantId: string;
  readonly learnerId: string;
  readonly actor: string;
  readonly requestId: string;
  /** Admin events: the policy, region or override id. */
  readonly subjectId: string;
  readonly beforeJson: string;
  readonly afterJson: string;
  /** Decisions (and OVERRIDE_USED): the decision id returned to the caller. */
  readonly decisionId: string;
  /** An Operation name. */
  readonly operation: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly requestedRegion: string;
  readonly targetRegion: string;
  readonly callerRegion: string;
  readonly primaryRegion: string;
  /** null for admin events. */
  readonly allowed: boolean | null;
  /** ReasonCode names, in decision order. */
  readonly reasonCodes: readonly string[];
  readonly policyId: string;
  readonly policyVersion: number;
  readonly snapshotVersion: number;
  readonly overrideId: string;
  /** One per denying rule of a denied decision; also written to the violation index. */
  readonly violations: readonly ViolationContent[];
}

/** A chain entry: its content, its position (from 1, without gaps) and its hashes. */
export interface AuditEntry extends AuditEntryContent {
  readonly seq: number;
  /** Version of the canonical serialization the hash covers. */
  readonly hashVersion: number;
  /** Hex SHA-256 of the previous entry; GENESIS_HASH for the first. */
  readonly prevHash: string;
  readonly hash: string;
}

/** A violation as the violation index stores it: denormalised from its decision entry. */
export interface StoredViolation extends ViolationContent {
  /** The decision entry's sequence number. */
  readonly seq: number;
  /** Position among the entry's violations, from 0. */
  readonly idx: number;
  readonly occurredAt: number;
  readonly decisionId: string;
  readonly tenantId: string;
  readonly learnerId: string;
  readonly requestedRegion: string;
  readonly targetRegion: string;
  readonly primaryRegion: string;
  readonly actor: string;
  readonly requestId: string;
}

/** The violation rows of an entry, as the index must hold them. */
export function violationRowsOf(entry: AuditEntry): StoredViolation[] {
  return entry.violations.map((v, idx) => ({
    seq: entry.seq,
    idx,
    framework: v.framework,
    reasonCode: v.reasonCode,
    occurredAt: entry.occurredAt,
    decisionId: entry.decisionId,
    tenantId: entry.tenantId,
    learnerId: entry.learnerId,
    requestedRegion: entry.requestedRegion,
    targetRegion: entry.targetRegion,
    primaryRegion: entry.primaryRegion,
    actor: entry.actor,
    requestId: entry.requestId,
  }));
}

/** The empty content every builder starts from. */
export const EMPTY_CONTENT: Omit<AuditEntryContent, "kind" | "occurredAt"> = Object.freeze({
  tenantId: "",
  learnerId: "",
  actor: "",
  requestId: "",
  subjectId: "",
  beforeJson: "",
  afterJson: "",
  decisionId: "",
  operation: "",
  resourceType: "",
  resourceId: "",
  requestedRegion: "",
  targetRegion: "",
  callerRegion: "",
  primaryRegion: "",
  allowed: null,
  reasonCodes: Object.freeze([]) as readonly string[],
  policyId: "",
  policyVersion: 0,
  snapshotVersion: 0,
  overrideId: "",
  violations: Object.freeze([]) as readonly ViolationContent[],
});
