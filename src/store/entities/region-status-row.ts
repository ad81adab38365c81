import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/** An operator-set region status; one row per region that has one (the others keep their catalog status). */
export interface RegionStatusRow {
  regionId: string;
  /** A RegionStatus name: HEALTHY, DEGRADED or DOWN. */
  status: string;
  reason: string;
  /** Epoch milliseconds. */
  updatedAt: number;
  updatedBy: string;
}

export const RegionStatusRowSchema = new EntitySchema<RegionStatusRow>({
  name: "RegionStatusRow",
  tableName: "region_status",
  properties: {
    regionId: { type: "text", primary: true },
    status: { type: "text" },
    reason: { type: "text" },
    updatedAt: { type: epochMillisType },
    updatedBy: { type: "text" },
  },
});
