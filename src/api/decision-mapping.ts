import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import type { ReasonSchema } from "../../gen/residency/v1/reason_pb.js";
import type { Decision, Reason } from "../domain/decision.js";
import { frameworkMapping, reasonCodeMapping, reasonEffectMapping } from "./enum-mapping.js";

export function reasonToProto(reason: Reason): MessageInitShape<typeof ReasonSchema> {
  return {
    code: reasonCodeMapping.toProto(reason.code),
    message: reason.message,
    framework: reason.framework ? frameworkMapping.toProto(reason.framework) : 0,
    effect: reasonEffectMapping.toProto(reason.effect),
    overridable: reason.overridable,
    region: reason.region,
  };
}

export function decisionToProto(
  decision: Decision,
  meta: { decisionId: string; snapshotVersion: number; decidedAt: number },
): MessageInitShape<typeof ResolveAccessResponseSchema> {
  return {
    decisionId: meta.decisionId,
    allowed: decision.allowed,
    targetRegion: decision.targetRegion,
    crossRegion: decision.crossRegion,
    reasons: decision.reasons.map(reasonToProto),
    infrastructure: decision.routing,
    policyId: decision.policyId,
    policyVersion: BigInt(decision.policyVersion),
    effectiveFrameworks: decision.effectiveFrameworks.map(frameworkMapping.toProto),
    emergencyOverrideId: decision.emergencyOverrideId,
    snapshotVersion: BigInt(meta.snapshotVersion),
    alternativeRegions: decision.alternativeRegions as string[],
    primaryRegion: decision.primaryRegion,
    decideTime: timestampFromMs(meta.decidedAt),
  };
}
