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

/**
 * A memoised policy's alternatives, for one catalog (the very array of Region objects they were computed from,
 * so a region status change, which brings new Region objects, never reads stale ones), by request shape.
 */
interface AlternativesMemo {
  readonly regions: readonly Region[];
  /** Indexed by shapeOf(): whether the data is public, and whether the operation is INFERENCE. */
  readonly byShape: (readonly string[] | undefined)[];
}

// Keyed by the policy's plan memo, which only snapshot-held policies have; the entries live as long as it does.
const memos = new WeakMap<object, AlternativesMemo>();

/** The only parts of a request the counterfactual reads besides the policy and the catalog. */
const shapeOf = (request: DecisionRequest, publicData: boolean) => (publicData ? 1 : 0) + (request.operation === "INFERENCE" ? 2 : 0);

/**
 * The regions, in catalog order, where the same request would be allowed. Frozen and shared between the denies
 * of one policy and request shape: a deny that computed them afresh walked every region's plan, and the deny
 * tail dominated decide()'s p99.
 */
export function alternativeRegions(
  view: SnapshotView,
  policy: EffectivePolicy,
  request: DecisionRequest,
  publicData: boolean,
): readonly string[] {
  const key = policy.regionPlans;
  if (key === undefined) return computeAlternatives(view.regions, policy, request, publicData);
  let memo = memos.get(key);
  if (memo === undefined || memo.regions !== view.regions) {
    memo = { regions: view.regions, byShape: [undefined, undefined, undefined, undefined] };
    memos.set(key, memo);
  }
  const shape = shapeOf(request, publicData);
  return (memo.byShape[shape] ??= Object.freeze(computeAlternatives(view.regions, policy, request, publicData)));
}

function computeAlternatives(regions: readonly Region[], policy: EffectivePolicy, request: DecisionRequest, publicData: boolean): string[] {
  const alternatives: string[] = [];
  for (const region of regions) {
    if (wouldAllow(policy, region, request, publicData)) alternatives.push(region.id);
  }
  return alternatives;
}
