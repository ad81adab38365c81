import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  AuditEventKind,
  type AccessLogEntrySchema,
  type AuditEventSchema,
  type ViolationSchema,
} from "../../gen/residency/v1/audit_pb.js";
import type { AuditEntry, StoredViolation } from "../audit/audit-entry.js";
import { AUDIT_KINDS, type AuditKind } from "../audit/audit-record.js";
import type { Framework, Operation, ReasonCode } from "../domain/vocabulary.js";
import { frameworkMapping, operationMapping, reasonCodeMapping } from "./enum-mapping.js";

// Checked at load like the other enum mappings: a kind added on one side only fails at start.
const KIND_TO_PROTO = new Map<AuditKind, AuditEventKind>(
  AUDIT_KINDS.map((kind) => {
    const number = (AuditEventKind as unknown as Record<string, number | undefined>)[kind];
    if (number === undefined) throw new Error(`proto AuditEventKind lacks ${kind}`);
    return [kind, number];
  }),
);
const KIND_FROM_PROTO = new Map([...KIND_TO_PROTO].map(([kind, number]) => [number, kind]));

export function auditKindFromProto(kind: number): AuditKind | undefined {
  return KIND_FROM_PROTO.get(kind);
}

// The database holds names this build wrote; an unknown one (a newer build's) maps to UNSPECIFIED.
const operation = (name: string) => (name === "" ? 0 : (operationMapping.toProto(name as Operation) ?? 0));
const framework = (name: string) => (name === "" ? 0 : (frameworkMapping.toProto(name as Framework) ?? 0));
const reasonCode = (name: string) => reasonCodeMapping.toProto(name as ReasonCode) ?? 0;

export function accessLogEntryToProto(e: AuditEntry): MessageInitShape<typeof AccessLogEntrySchema> {
  return {
    seq: BigInt(e.seq),
    time: timestampFromMs(e.occurredAt),
    decisionId: e.decisionId,
    tenantId: e.tenantId,
    learnerId: e.learnerId,
    actor: e.actor,
    requestId: e.requestId,
    operation: operation(e.operation),
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    requestedRegion: e.requestedRegion,
    targetRegion: e.targetRegion,
    callerRegion: e.callerRegion,
    allowed: e.allowed === true,
    reasonCodes: e.reasonCodes.map(reasonCode),
    policyId: e.policyId,
    policyVersion: BigInt(e.policyVersion),
    snapshotVersion: BigInt(e.snapshotVersion),
    emergencyOverrideId: e.overrideId,
  };
}

export function violationToProto(v: StoredViolation): MessageInitShape<typeof ViolationSchema> {
  return {
    seq: BigInt(v.seq),
    time: timestampFromMs(v.occurredAt),
    decisionId: v.decisionId,
    tenantId: v.tenantId,
    learnerId: v.learnerId,
    framework: framework(v.framework),
    reasonCode: reasonCode(v.reasonCode),
    requestedRegion: v.requestedRegion,
    targetRegion: v.targetRegion,
    primaryRegion: v.primaryRegion,
    actor: v.actor,
    requestId: v.requestId,
  };
}

export function auditEventToProto(e: AuditEntry): MessageInitShape<typeof AuditEventSchema> {
  return {
    seq: BigInt(e.seq),
    time: timestampFromMs(e.occurredAt),
    kind: KIND_TO_PROTO.get(e.kind) ?? AuditEventKind.UNSPECIFIED,
    tenantId: e.tenantId,
    learnerId: e.learnerId,
    actor: e.actor,
    requestId: e.requestId,
    hash: e.hash,
    prevHash: e.prevHash,
    hashVersion: e.hashVersion,
    // A decision, and the use of an override by one, carry the decision.
    ...(e.decisionId !== "" ? { decision: accessLogEntryToProto(e) } : {}),
    subjectId: e.subjectId,
    beforeJson: e.beforeJson,
    afterJson: e.afterJson,
  };
}
