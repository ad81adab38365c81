import { BigIntType } from "@mikro-orm/core";

/**
 * The columns every policy row carries, shared by the current-version table and the history table so the two
 * can never drift apart. Enumerations are stored as their names (text) and lists as JSON arrays; the store
 * trusts what it wrote, validation happens in the service layer before a write.
 */
export interface PolicyFieldColumns {
  tenantId: string;
  /** '' for the tenant's own policy. */
  learnerId: string;
  primaryRegion: string;
  allowedRegions: string[];
  prohibitedRegions: string[];
  complianceFrameworks: string[];
  dataClassification: string | null;
  allowCrossRegionFailover: boolean | null;
  dataRetentionDays: number | null;
  emergencyContact: string;
  ageBand: string | null;
  transferSafeguards: string[];
  inferenceProviders: string[];
  /** Epoch milliseconds of version 1. */
  createdAt: number;
  createdBy: string;
}

/**
 * Epoch milliseconds. A 32-bit integer overflows, and MikroORM's default bigint mapping returns strings; the
 * "number" mode keeps them JS numbers on every driver (node-postgres returns bigint columns as strings too).
 */
export const epochMillisType = new BigIntType("number");

/** EntitySchema properties for {@link PolicyFieldColumns}; column names come from the naming strategy (snake_case). */
export const policyFieldProperties = {
  tenantId: { type: "text" },
  learnerId: { type: "text" },
  primaryRegion: { type: "text" },
  allowedRegions: { type: "json" },
  prohibitedRegions: { type: "json" },
  complianceFrameworks: { type: "json" },
  dataClassification: { type: "text", nullable: true },
  allowCrossRegionFailover: { type: "boolean", nullable: true },
  dataRetentionDays: { type: "integer", nullable: true },
  emergencyContact: { type: "text" },
  ageBand: { type: "text", nullable: true },
  transferSafeguards: { type: "json" },
  inferenceProviders: { type: "json" },
  createdAt: { type: epochMillisType },
  createdBy: { type: "text" },
} as const;
