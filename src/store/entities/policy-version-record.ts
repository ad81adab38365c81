import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType, policyFieldProperties, type PolicyFieldColumns } from "./policy-field-columns.js";

/**
 * One row per version ever written, so old versions stay readable and audits can replay a policy. A delete
 * writes a final tombstone row (deleted = true, version = last version + 1) carrying the last content.
 * No foreign key to policy: the history outlives the current row.
 */
export interface PolicyVersionRecord extends PolicyFieldColumns {
  policyId: string;
  version: number;
  deleted: boolean;
  /** When and by whom this version was written (the policy's updatedAt/updatedBy at that version). */
  writtenAt: number;
  writtenBy: string;
}

export const PolicyVersionRecordSchema = new EntitySchema<PolicyVersionRecord>({
  name: "PolicyVersionRecord",
  tableName: "policy_version",
  properties: {
    policyId: { type: "text", primary: true },
    version: { type: "integer", primary: true },
    deleted: { type: "boolean" },
    ...policyFieldProperties,
    writtenAt: { type: epochMillisType },
    writtenBy: { type: "text" },
  },
});
