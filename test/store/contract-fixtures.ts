import { EMPTY_POLICY_FIELDS, type PolicyFields, type StoredPolicy } from "../../src/domain/policy.js";
import type { PolicyStore, WriteMeta } from "../../src/store/policy-store.js";

export interface PolicyStoreFixture {
  /** An open store on an empty database. */
  readonly store: PolicyStore;
  /** Opens another store on the same database; the first may still be open (that is how concurrency is tested). */
  readonly reopen: () => Promise<PolicyStore>;
  /** Deletes the change-log rows up to and including `version`, as a pruning job would. */
  readonly pruneChanges: (throughVersion: number) => Promise<void>;
  /** Closes every store handed out and removes the database. */
  readonly cleanup: () => Promise<void>;
}

// Times beyond 2^31 catch a 32-bit column; ids are lowercase letters and digits so that every database
// collation orders them like the JS comparison the tests use.
export const T0 = 1_750_000_000_000;
export const meta = (n: number, actor = "admin-1"): WriteMeta => ({ actor, now: T0 + n });

export function fields(tenantId: string, learnerId = "", over: Partial<PolicyFields> = {}): PolicyFields {
  return {
    ...EMPTY_POLICY_FIELDS,
    tenantId,
    learnerId,
    primaryRegion: learnerId === "" ? "eu-west-1" : "",
    ...over,
  };
}

export const FULL: Partial<PolicyFields> = {
  primaryRegion: "eu-central-1",
  allowedRegions: ["eu-west-1", "eu-north-1"],
  prohibitedRegions: ["us-east-1"],
  complianceFrameworks: ["GDPR", "COPPA"],
  dataClassification: "SENSITIVE",
  allowCrossRegionFailover: false,
  dataRetentionDays: 365,
  emergencyContact: "dpo@acme.example",
  ageBand: "UNDER_13",
  transferSafeguards: ["SCC"],
  inferenceProviders: ["provider-a", "provider-b"],
};

export const key = (p: StoredPolicy) => `${p.tenantId}/${p.learnerId}`;
export const byKey = (a: StoredPolicy, b: StoredPolicy) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
