import { mergeEffectivePolicy } from "../domain/effective-policy.js";
import type { ComplianceSettings } from "../domain/frameworks/compliance-settings.js";
import type { EffectivePolicy, StoredPolicy } from "../domain/policy.js";

/**
 * One tenant in a snapshot: its stored policies (kept so that a later change can re-merge only this tenant) and
 * their merged effective policies (what decisions read). Shared between snapshot versions while the tenant does
 * not change, so it is never mutated after it is made.
 */
export interface TenantEntry {
  readonly tenantPolicy: StoredPolicy | undefined;
  /** By learner id. */
  readonly learnerPolicies: ReadonlyMap<string, StoredPolicy>;
  /** Effective policy for tenant-level data and for learners without a policy of their own. */
  readonly tenant: EffectivePolicy | undefined;
  /** By learner id: each learner policy merged with the tenant's. */
  readonly learners: ReadonlyMap<string, EffectivePolicy>;
  /** Stored policies of the tenant (its own and its learners'). */
  readonly policyCount: number;
}

/** Shared by every tenant without learner policies (never mutated). */
const NO_LEARNERS: ReadonlyMap<string, never> = new Map<string, never>();

/** Merges a tenant's policies; undefined when it has none left. */
export function makeTenantEntry(
  tenantPolicy: StoredPolicy | undefined,
  learnerPolicies: ReadonlyMap<string, StoredPolicy>,
  compliance: Partial<ComplianceSettings> | undefined,
): TenantEntry | undefined {
  if (tenantPolicy === undefined && learnerPolicies.size === 0) return undefined;
  const tenant = tenantPolicy && Object.freeze(mergeEffectivePolicy(tenantPolicy, undefined, compliance));
  let learners: ReadonlyMap<string, EffectivePolicy> = NO_LEARNERS;
  if (learnerPolicies.size > 0) {
    const merged = new Map<string, EffectivePolicy>();
    for (const [learnerId, policy] of learnerPolicies) {
      merged.set(learnerId, Object.freeze(mergeEffectivePolicy(tenantPolicy, policy, compliance)));
    }
    learners = merged;
  }
  return {
    tenantPolicy,
    learnerPolicies: learnerPolicies.size === 0 ? NO_LEARNERS : learnerPolicies,
    tenant,
    learners,
    policyCount: (tenantPolicy ? 1 : 0) + learnerPolicies.size,
  };
}

/**
 * The entry after some of its learner policies changed (a policy, or undefined for a deleted one) and the
 * tenant policy did not: only those learners are merged again; the others' effective policies are reused.
 */
export function withLearnerChanges(
  previous: TenantEntry,
  changes: ReadonlyMap<string, StoredPolicy | undefined>,
  compliance: Partial<ComplianceSettings> | undefined,
): TenantEntry | undefined {
  const learnerPolicies = new Map(previous.learnerPolicies);
  const learners = new Map(previous.learners);
  for (const [learnerId, policy] of changes) {
    if (policy === undefined) {
      learnerPolicies.delete(learnerId);
      learners.delete(learnerId);
    } else {
      learnerPolicies.set(learnerId, policy);
      learners.set(learnerId, Object.freeze(mergeEffectivePolicy(previous.tenantPolicy, policy, compliance)));
    }
  }
  if (previous.tenantPolicy === undefined && learnerPolicies.size === 0) return undefined;
  return {
    tenantPolicy: previous.tenantPolicy,
    learnerPolicies: learnerPolicies.size === 0 ? NO_LEARNERS : learnerPolicies,
    tenant: previous.tenant,
    learners: learners.size === 0 ? NO_LEARNERS : learners,
    policyCount: (previous.tenantPolicy ? 1 : 0) + learnerPolicies.size,
  };
}
