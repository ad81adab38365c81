import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ResidencyPolicy, ResidencyPolicySchema } from "../../gen/residency/v1/policy_pb.js";
import type { FieldViolation } from "../domain/errors.js";
import type { PolicyFields, StoredPolicy } from "../domain/policy.js";
import { ageBandMapping, classificationMapping, frameworkMapping, safeguardMapping, type EnumMapping } from "./enum-mapping.js";

/**
 * Reads the writable fields of a proto policy. Enum values the domain cannot hold (UNSPECIFIED inside a
 * list, unknown numbers) become violations here, so that validation can report them with the rest.
 */
export function policyFieldsFromProto(
  policy: ResidencyPolicy,
  prefix: string,
  violations: FieldViolation[],
): PolicyFields {
  const list = <D extends string>(values: readonly number[], mapping: EnumMapping<D>, field: string): D[] =>
    values.flatMap((value, i) => {
      const mapped = mapping.fromProto(value);
      if (mapped === undefined) {
        violations.push({
          field: `${prefix}.${field}[${i}]`,
          rule: "enum_value",
          message: `${prefix}.${field}[${i}] is ${value === 0 ? "UNSPECIFIED" : `unknown value ${value}`}; use one of ${mapping.names}`,
        });
        return [];
      }
      return [mapped];
    });
  const single = <D extends string>(value: number, mapping: EnumMapping<D>, field: string): D | undefined => {
    if (value === 0) return undefined;
    const mapped = mapping.fromProto(value);
    if (mapped === undefined) {
      violations.push({
        field: `${prefix}.${field}`,
        rule: "enum_value",
        message: `${prefix}.${field} has unknown value ${value}; use one of ${mapping.names}`,
      });
    }
    return mapped;
  };
  return {
    tenantId: policy.tenantId.trim(),
    learnerId: policy.learnerId.trim(),
    primaryRegion: policy.primaryRegion.trim(),
    allowedRegions: policy.allowedRegions.map((r) => r.trim()),
    prohibitedRegions: policy.prohibitedRegions.map((r) => r.trim()),
    complianceFrameworks: list(policy.complianceFrameworks, frameworkMapping, "compliance_frameworks"),
    dataClassification: single(policy.dataClassification, classificationMapping, "data_classification"),
    allowCrossRegionFailover: policy.allowCrossRegionFailover,
    dataRetentionDays: policy.dataRetentionDays,
    emergencyContact: policy.emergencyContact.trim(),
    ageBand: single(policy.ageBand, ageBandMapping, "age_band"),
    transferSafeguards: list(policy.transferSafeguards, safeguardMapping, "transfer_safeguards"),
    inferenceProviders: policy.inferenceProviders.map((p) => p.trim()),
  };
}

export function policyToProto(policy: StoredPolicy): MessageInitShape<typeof ResidencyPolicySchema> {
  return {
    policyId: policy.policyId,
    tenantId: policy.tenantId,
    learnerId: policy.learnerId,
    primaryRegion: policy.primaryRegion,
    allowedRegions: [...policy.allowedRegions],
    prohibitedRegions: [...policy.prohibitedRegions],
    complianceFrameworks: policy.complianceFrameworks.map(frameworkMapping.toProto),
    dataClassification: policy.dataClassification ? classificationMapping.toProto(policy.dataClassification) : 0,
    allowCrossRegionFailover: policy.allowCrossRegionFailover,
    dataRetentionDays: policy.dataRetentionDays,
    emergencyContact: policy.emergencyContact,
    ageBand: policy.ageBand ? ageBandMapping.toProto(policy.ageBand) : 0,
    transferSafeguards: policy.transferSafeguards.map(safeguardMapping.toProto),
    inferenceProviders: [...policy.inferenceProviders],
    version: BigInt(policy.version),
    createTime: timestampFromMs(policy.createdAt),
    updateTime: timestampFromMs(policy.updatedAt),
    createdBy: policy.createdBy,
    updatedBy: policy.updatedBy,
  };
}
