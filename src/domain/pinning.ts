import type { Reason } from "./decision.js";
import type { EffectivePolicy } from "./policy.js";
import type { ReasonCode } from "./vocabulary.js";

// Steps 4 and 5 of the decision order: prohibited regions, then primary or allowed.

/** Outcome of the pinning steps (4 and 5) for one target region. */
export type PinningVerdict = Extract<
  ReasonCode,
  "PRIMARY_REGION" | "ALLOWED_REGION" | "REGION_PROHIBITED" | "REGION_NOT_ALLOWED"
>;

/** Steps 4 and 5: prohibited wins over everything, then the target must be the primary or allowed. */
export function pinningVerdict(policy: EffectivePolicy, target: string): PinningVerdict {
  if (policy.prohibitedSet.has(target)) return "REGION_PROHIBITED";
  if (target === policy.primaryRegion) return "PRIMARY_REGION";
  if (policy.allowedSet.has(target)) return "ALLOWED_REGION";
  return "REGION_NOT_ALLOWED";
}

export function pinningReason(verdict: PinningVerdict, policy: EffectivePolicy, target: string): Reason {
  switch (verdict) {
    case "PRIMARY_REGION":
      return reason(verdict, `region "${target}" is the primary region of ${describePolicy(policy)}`, "PASS", target);
    case "ALLOWED_REGION":
      return reason(verdict, `region "${target}" is an allowed region of ${describePolicy(policy)}`, "PASS", target);
    case "REGION_PROHIBITED":
      return reason(verdict, `region "${target}" is prohibited by ${describePolicy(policy)}`, "DENY", target);
    case "REGION_NOT_ALLOWED":
      return reason(
        verdict,
        `region "${target}" is neither the primary region ("${policy.primaryRegion}") nor an allowed region of ${describePolicy(policy)}`,
        "DENY",
        target,
      );
  }
}

/** Pinning denies are soft: an emergency override for this learner and region may allow them. */
function reason(code: PinningVerdict, message: string, effect: "PASS" | "DENY", region: string): Reason {
  return Object.freeze({ code, message, framework: undefined, effect, overridable: effect === "DENY", region });
}

/** "policy pol-1 for tenant acme-edu", "policy pol-2 for learner l-7 of tenant acme-edu". */
export function describePolicy(policy: EffectivePolicy): string {
  const whom = policy.learnerId === "" ? `tenant ${policy.tenantId}` : `learner ${policy.learnerId} of tenant ${policy.tenantId}`;
  return policy.defaultRegionApplied ? `the default-region setting for ${whom}` : `policy ${policy.policyId} for ${whom}`;
}
