import { randomUUID } from "node:crypto";
import type { PolicyFields, StoredPolicy } from "../domain/policy.js";
import type { AgeBand, DataClassification, Framework, Safeguard } from "../domain/vocabulary.js";
import type { PolicyFieldColumns } from "./entities/policy-field-columns.js";
import type { PolicyRecord } from "./entities/policy-record.js";
import type { PolicyVersionRecord } from "./entities/policy-version-record.js";

/** The columns a write sets from the caller's fields (identity and provenance are set by the store). */
export type WritableColumns = Omit<PolicyFieldColumns, "createdAt" | "createdBy">;

/** Domain fields to columns. `undefined` becomes NULL; lists are copied so the caller's arrays are never aliased. */
export function policyFieldsToColumns(fields: PolicyFields): WritableColumns {
  return {
    tenantId: fields.tenantId,
    learnerId: fields.learnerId,
    primaryRegion: fields.primaryRegion,
    allowedRegions: [...fields.allowedRegions],
    prohibitedRegions: [...fields.prohibitedRegions],
    complianceFrameworks: [...fields.complianceFrameworks],
    dataClassification: fields.dataClassification ?? null,
    allowCrossRegionFailover: fields.allowCrossRegionFailover ?? null,
    dataRetentionDays: fields.dataRetentionDays ?? null,
    emergencyContact: fields.emergencyContact,
    ageBand: fields.ageBand ?? null,
    transferSafeguards: [...fields.transferSafeguards],
    inferenceProviders: [...fields.inferenceProviders],
  };
}

// The casts below trust the database: only validated PolicyFields are ever written through this module.
function columnsToFields(c: PolicyFieldColumns): PolicyFields {
  return {
    tenantId: c.tenantId,
    learnerId: c.learnerId,
    primaryRegion: c.primaryRegion,
    allowedRegions: [...c.allowedRegions],
    prohibitedRegions: [...c.prohibitedRegions],
    complianceFrameworks: [...c.complianceFrameworks] as Framework[],
    dataClassification: (c.dataClassification ?? undefined) as DataClassification | undefined,
    allowCrossRegionFailover: c.allowCrossRegionFailover ?? undefined,
    dataRetentionDays: c.dataRetentionDays ?? undefined,
    emergencyContact: c.emergencyContact,
    ageBand: (c.ageBand ?? undefined) as AgeBand | undefined,
    transferSafeguards: [...c.transferSafeguards] as Safeguard[],
    inferenceProviders: [...c.inferenceProviders],
  };
}

/** The first version of a new policy: a fresh id, created and updated now by the writer. */
export function newPolicyRecord(fields: PolicyFields, meta: { readonly now: number; readonly actor: string }): PolicyRecord {
  return {
    ...policyFieldsToColumns(fields),
    policyId: `pol_${randomUUID().replaceAll("-", "")}`,
    version: 1,
    createdAt: meta.now,
    createdBy: meta.actor,
    updatedAt: meta.now,
    updatedBy: meta.actor,
  };
}

export function policyRecordToStored(r: PolicyRecord): StoredPolicy {
  return {
    ...columnsToFields(r),
    policyId: r.policyId,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    createdBy: r.createdBy,
    updatedBy: r.updatedBy,
  };
}

export function policyVersionToStored(v: PolicyVersionRecord): StoredPolicy {
  return {
    ...columnsToFields(v),
    policyId: v.policyId,
    version: v.version,
    createdAt: v.createdAt,
    updatedAt: v.writtenAt,
    createdBy: v.createdBy,
    updatedBy: v.writtenBy,
  };
}

/** The history row recording a policy's state; for a tombstone, `p` is the last live version. */
export function policyVersionFromStored(
  p: StoredPolicy,
  history: { version: number; deleted: boolean; writtenAt: number; writtenBy: string },
): PolicyVersionRecord {
  return {
    ...policyFieldsToColumns(p),
    policyId: p.policyId,
    createdAt: p.createdAt,
    createdBy: p.createdBy,
    ...history,
  };
}

/** The history row of a live version: the policy as written, by whom and when. */
export function liveVersionRow(p: StoredPolicy): PolicyVersionRecord {
  const history = { version: p.version, deleted: false, writtenAt: p.updatedAt, writtenBy: p.updatedBy };
  return policyVersionFromStored(p, history);
}
