import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EffectivePolicySchema } from "../../gen/residency/v1/policy_pb.js";
import type { EffectivePolicy } from "../domain/policy.js";
import { reasonToProto } from "./decision-mapping.js";
import { ageBandMapping, classificationMapping, frameworkMapping, safeguardMapping } from "./enum-mapping.js";

/** `learnerId` is the learner asked about: a learner without its own policy still gets its name back. */
export function effectivePolicyToProto(
  policy: EffectivePolicy,
  learnerId: string,
): MessageInitShape<typeof EffectivePolicySchema> {
  return {
    tenantId: policy.tenantId,
    learnerId,
    primaryRegion: policy.primaryRegion,
    allowedRegions: [...policy.allowedRegions],
    prohibitedRegions: [...policy.prohibitedRegions],
    complianceFrameworks: policy.complianceFrameworks.map(frameworkMapping.toProto),
    dataClassification: classificationMapping.toProto(policy.dataClassification),
    allowCrossRegionFailover: policy.allowCrossRegionFailover,
    dataRetentionDays: policy.dataRetentionDays,
    effectiveRetentionDays: policy.effectiveRetentionDays,
    ageBand: policy.ageBand ? ageBandMapping.toProto(policy.ageBand) : 0,
    transferSafeguards: policy.transferSafeguards.map(safeguardMapping.toProto),
    inferenceProviders: [...policy.inferenceProviders],
    emergencyContact: policy.emergencyContact,
    obligations: policy.obligations.map(reasonToProto),
    defaultRegionApplied: policy.defaultRegionApplied,
  };
}
