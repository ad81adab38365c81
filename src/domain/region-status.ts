import { wouldAllow } from "./counterfactual.js";
import type { DecisionRequest, Reason } from "./decision.js";
import { describePolicy } from "./pinning.js";
import type { EffectivePolicy } from "./policy.js";
import type { Region } from "./region.js";
import { regionPlan, type RegionPlan } from "./region-plan.js";
import type { SnapshotView } from "./snapshot-view.js";

// Step 7 of the decision order: the target region's status.
//
// Failover applies whether or not the caller requested the region: a requested region that is DOWN
// fails over exactly when the policy allows cross-region failover (allow_cross_region_failover), the
// same as the primary region would. The policy owner decides whether data may move during an outage;
// the caller learns where it went from REGION_FAILOVER and the decision's target region.

export interface RegionStatusOutcome {
  /** REGION_DEGRADED; or REGION_FAILOVER and the failover target's own checks; or REGION_UNAVAILABLE. */
  readonly reasons: readonly Reason[];
  /** Where the decision goes on: the target's plan, the failover target's, or undefined (deny). */
  readonly plan: RegionPlan | undefined;
}

/** Only called when the target is not HEALTHY. */
export function regionStatusStep(
  view: SnapshotView,
  policy: EffectivePolicy,
  plan: RegionPlan,
  request: DecisionRequest,
  publicData: boolean,
): RegionStatusOutcome {
  const from = plan.region;
  if (from.status === "DEGRADED") return { reasons: [degraded(from)], plan };
  if (from.status === "HEALTHY") return { reasons: [], plan };
  if (!policy.allowCrossRegionFailover) {
    return {
      reasons: [unavailable(from, `${describePolicy(policy)} does not allow cross-region failover`)],
      plan: undefined,
    };
  }
  const to = failoverTarget(view, policy, from, request, publicData);
  if (to === undefined) {
    return {
      reasons: [
        unavailable(
          from,
          `no other region that is up passes ${describePolicy(policy)} and its frameworks for this request`,
        ),
      ],
      plan: undefined,
    };
  }
  const target = regionPlan(policy, to);
  const checks = (publicData ? target.public : target.personal).regionReasons;
  const reasons = [failedOver(from, to), ...checks];
  if (to.status === "DEGRADED") reasons.push(degraded(to));
  return { reasons, plan: target };
}

/**
 * The failover target for `from`: the first region, in its legal area first and then in catalog order,
 * where the same request would be allowed (steps 4–6, up, and for INFERENCE with a compliant provider:
 * failing over to a region that then denies helps no one) and that every effective framework accepts as
 * a failover target (PIPEDA: never out of Canada). Those are transfer rules, so PUBLIC data skips them.
 */
export function failoverTarget(
  view: SnapshotView,
  policy: EffectivePolicy,
  from: Region,
  request: DecisionRequest,
  publicData: boolean,
): Region | undefined {
  const failoverModules = publicData ? [] : policy.compliance.failoverModules;
  let elsewhere: Region | undefined;
  for (const region of view.regions) {
    if (region.id === from.id) continue;
    if (elsewhere !== undefined && region.legalArea !== from.legalArea) continue;
    if (!wouldAllow(policy, region, request, publicData)) continue;
    if (!failoverModules.every((m) => m.permitsFailoverTo!(region))) continue;
    if (region.legalArea === from.legalArea) return region;
    elsewhere = region;
  }
  return elsewhere;
}

function statusOf(region: Region): string {
  return region.statusReason === "" ? region.status : `${region.status} (${region.statusReason})`;
}

function degraded(region: Region): Reason {
  return {
    code: "REGION_DEGRADED",
    message: `region "${region.id}" is ${statusOf(region)}: the decision still targets it`,
    framework: undefined,
    effect: "INFO",
    overridable: false,
    region: region.id,
  };
}

function unavailable(region: Region, why: string): Reason {
  return {
    code: "REGION_UNAVAILABLE",
    message: `region "${region.id}" is ${statusOf(region)} and ${why}`,
    framework: undefined,
    effect: "DENY",
    overridable: false,
    region: region.id,
  };
}

function failedOver(from: Region, to: Region): Reason {
  const area =
    to.legalArea === from.legalArea
      ? `same legal area ${from.legalArea}`
      : `outside legal area ${from.legalArea}: no region of it qualifies`;
  return {
    code: "REGION_FAILOVER",
    message: `region "${from.id}" is ${statusOf(from)}: failed over from "${from.id}" to "${to.id}" (${area})`,
    framework: undefined,
    effect: "INFO",
    overridable: false,
    region: to.id,
  };
}
