import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ResolveAccessRequest, ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { noopAuditSink, type AuditSink } from "../audit/audit-sink.js";
import { decide } from "../domain/decide.js";
import type { Decision, DecisionRequest } from "../domain/decision.js";
import { UnavailableError } from "../domain/errors.js";
import type { OverrideUsageSink } from "../overrides/override-usage-counter.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { actorOf } from "./actor.js";
import type { CallContext } from "./call-context.js";
import { decisionToProto } from "./decision-mapping.js";
import { randomUuid } from "./random-uuid.js";
import { requestIdOf } from "./request-id.js";

export interface Responded {
  readonly decision: Decision;
  readonly response: MessageInitShape<typeof ResolveAccessResponseSchema>;
  readonly decidedAt: number;
}

/**
 * Decides one validated request, records it in the audit log and shapes the answer. Every decision of every RPC
 * (ResolveAccess, each batch item, PresignObjectUrl) goes through one responder.
 */
export type DecisionResponder = (
  snapshot: Snapshot,
  request: DecisionRequest,
  original: ResolveAccessRequest,
  context: CallContext,
) => Responded;

/**
 * Recording only enqueues (no await, no I/O; one flat record of what the call already holds). When
 * the audit queue is full the decision is shed with UNAVAILABLE: an answer is never given without its record.
 */
export function createDecisionResponder(
  clock: () => number,
  audit: AuditSink = noopAuditSink,
  /** Counts the decisions each emergency override allowed (in memory; flushed to the store in batches). */
  overrideUsage?: OverrideUsageSink,
): DecisionResponder {
  return (snapshot, request, original, context) => {
    const decidedAt = clock();
    const decision = decide(snapshot, request, decidedAt);
    const decisionId = randomUuid();
    const recorded = audit.record({
      kind: "DECISION",
      time: decidedAt,
      decisionId,
      snapshotVersion: snapshot.version,
      actor: actorOf(context),
      requestId: requestIdOf(context),
      tenantId: request.tenantId,
      learnerId: request.learnerId,
      operation: request.operation,
      resourceType: original.resourceType,
      resourceId: original.resourceId,
      requestedRegion: request.requestedRegion,
      callerRegion: original.callerRegion,
      targetRegion: decision.targetRegion,
      primaryRegion: decision.primaryRegion,
      allowed: decision.allowed,
      reasons: decision.reasons,
      policyId: decision.policyId,
      policyVersion: decision.policyVersion,
      overrideId: decision.emergencyOverrideId,
    });
    if (!recorded) throw new UnavailableError("the audit log cannot keep up: decision shed, retry with backoff");
    if (decision.emergencyOverrideId !== "") overrideUsage?.record(decision.emergencyOverrideId, decidedAt);
    const response = decisionToProto(decision, { decisionId, snapshotVersion: snapshot.version, decidedAt });
    return { decision, response, decidedAt };
  };
}
