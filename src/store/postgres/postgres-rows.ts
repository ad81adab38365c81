import type { StoredPolicy } from "../../domain/policy.js";
import type { AgeBand, DataClassification, Framework, Safeguard } from "../../domain/vocabulary.js";
import type { RegionStatusRow } from "../entities/region-status-row.js";

// Rows read with plain SQL (no entity hydration) on the replication paths: the change read and the full snapshot
// read. Column names are the schema's (snake_case); node-postgres returns bigint columns as strings and json_agg
// renders them as numbers, so both are accepted.

export interface RegionStatusColumns {
  region_id: string;
  status: string;
  reason: string;
  updated_at: number | string;
  updated_by: string;
}

/**
 * A policy row straight to the domain's StoredPolicy, as one plain literal (no spread: a spread-then-assign object
 * goes to dictionary mode, which at a million policies costs seconds of GC and gigabytes). The lists are the ones
 * the driver parsed for this row, so nothing else holds them. The casts trust the database: only validated
 * PolicyFields are ever written.
 */
export function storedPolicyOfRow(p: Record<string, unknown>): StoredPolicy {
  return {
    tenantId: p.tenant_id as string,
    learnerId: p.learner_id as string,
    primaryRegion: p.primary_region as string,
    allowedRegions: p.allowed_regions as string[],
    prohibitedRegions: p.prohibited_regions as string[],
    complianceFrameworks: p.compliance_frameworks as Framework[],
    dataClassification: (p.data_classification ?? undefined) as DataClassification | undefined,
    allowCrossRegionFailover: (p.allow_cross_region_failover ?? undefined) as boolean | undefined,
    dataRetentionDays: (p.data_retention_days ?? undefined) as number | undefined,
    emergencyContact: p.emergency_contact as string,
    ageBand: (p.age_band ?? undefined) as AgeBand | undefined,
    transferSafeguards: p.transfer_safeguards as Safeguard[],
    inferenceProviders: p.inference_providers as string[],
    policyId: p.policy_id as string,
    version: Number(p.version),
    createdAt: Number(p.created_at),
    updatedAt: Number(p.updated_at),
    createdBy: p.created_by as string,
    updatedBy: p.updated_by as string,
  };
}

export function regionStatusRowOf(r: RegionStatusColumns): RegionStatusRow {
  return { regionId: r.region_id, status: r.status, reason: r.reason, updatedAt: Number(r.updated_at), updatedBy: r.updated_by };
}
