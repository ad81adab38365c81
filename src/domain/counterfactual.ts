import type { DecisionRequest } from "./decision.js";
import type { EffectivePolicy } from "./policy.js";
import type { Region } from "./region.js";
import { regionPlan } from "./region-plan.js";
import type { SnapshotView } from "./snapshot-view.js";

// The counterfactual behind a deny's alternatives, and the test a failover target must pass: would the
// same request, with `region` as its requested region, be allowed there? It reads the very plans
// decide() reads (steps 4–6 and 8) and the region's status (step 7: a DOWN region is no alternative —
// a request sent there would be judged elsewhere, or denied).

export function wouldAllow(policy: EffectivePolicy, region: Region, request: DecisionRequest, publicData: boolean): boolean {
  if (region.status === "DOWN") return false;
  const plan = regionPlan(policy, region);
  if ((publicData ? plan.public : plan.personal).denied) return false;
  return request.operation !== "INFERENCE" || plan.inference().provider !== undefined;
}

/** The regions, in catalog order, where the same request would be allowed. */
export function alternativeRegions(
  view: SnapshotView,
  policy: EffectivePolicy,
  request: DecisionRequest,
  publicData: boolean,
): string[] {
  const alternatives: string[] = [];
  for (const region of view.regions) {
    if (wouldAllow(policy, region, request, publicData)) alternatives.push(region.id);
  }
  return alternatives;
}
