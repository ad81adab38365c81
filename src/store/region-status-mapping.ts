import type { RegionStatus } from "../domain/vocabulary.js";
import type { RegionStatusRow } from "./entities/region-status-row.js";
import type { RegionStatusRecord } from "./policy-store.js";

// The cast trusts the database: only RegionStatus names are ever written through setRegionStatus.
export function regionStatusRowToRecord(row: RegionStatusRow): RegionStatusRecord {
  return {
    regionId: row.regionId,
    status: row.status as RegionStatus,
    reason: row.reason,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}
