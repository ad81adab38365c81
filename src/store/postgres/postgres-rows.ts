import type { PolicyRecord } from "../entities/policy-record.js";
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

export function policyRecordOfRow(p: Record<string, unknown>): PolicyRecord {
  return {
    policyId: p.policy_id as string,
    tenantId: p.tenant_id as string,
    learnerId: p.learner_id as string,
    primaryRegion: p.primary_region as string,
    allowedRegions: p.allowed_regions as string[],
    prohibitedRegions: p.prohibited_regions as string[],
    complianceFrameworks: p.compliance_frameworks as string[],
    dataClassification: (p.data_classification as string | null) ?? null,
    allowCrossRegionFailover: (p.allow_cross_region_failover as boolean | null) ?? null,
    dataRetentionDays: (p.data_retention_days as number | null) ?? null,
    emergencyContact: p.emergency_contact as string,
    ageBand: (p.age_band as string | null) ?? null,
    transferSafeguards: p.transfer_safeguards as string[],
    inferenceProviders: p.inference_providers as string[],
    createdAt: Number(p.created_at),
    createdBy: p.created_by as string,
    version: Number(p.version),
    updatedAt: Number(p.updated_at),
    updatedBy: p.updated_by as string,
  };
}

export function regionStatusRowOf(r: RegionStatusColumns): RegionStatusRow {
  return { regionId: r.region_id, status: r.status, reason: r.reason, updatedAt: Number(r.updated_at), updatedBy: r.updated_by };
}
