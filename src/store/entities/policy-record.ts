import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType, policyFieldProperties, type PolicyFieldColumns } from "./policy-field-columns.js";

/** The current version of one policy. Deleting a policy deletes its row; its history stays in policy_version. */
export interface PolicyRecord extends PolicyFieldColumns {
  /** Server-generated, "pol_" + random hex. */
  policyId: string;
  /**
   * Starts at 1, +1 per update. Deliberately not MikroORM's `version: true`: the ORM skips the UPDATE (and the
   * bump) when no column changed, but every write here must produce a new version, so the store issues its own
   * conditional `UPDATE ... WHERE version = expected` instead.
   */
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export const PolicyRecordSchema = new EntitySchema<PolicyRecord>({
  name: "PolicyRecord",
  tableName: "policy",
  properties: {
    policyId: { type: "text", primary: true },
    ...policyFieldProperties,
    version: { type: "integer" },
    updatedAt: { type: epochMillisType },
    updatedBy: { type: "text" },
  },
  // One policy per tenant and per learner; also serves the tenant filter and keyset pagination on
  // (tenant_id, learner_id), so tenant_id needs no index of its own.
  uniques: [{ name: "policy_tenant_learner_unique", properties: ["tenantId", "learnerId"] }],
});
