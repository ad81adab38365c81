import { alternativeRegions } from "./counterfactual.js";
import type { Decision, DecisionRequest, Reason, Routing } from "./decision.js";
import { defaultRegionPolicy } from "./effective-policy.js";
import {
  findCoveringOverride,
  onlySoftDenies,
  overrideAppliedReason,
  type EmergencyOverride,
} from "./emergency-override.js";
import { overrideReasons } from "./frameworks/framework-registry.js";
import { FailedPreconditionError, InvalidArgumentError } from "./errors.js";
import { describePolicy } from "./pinning.js";
import type { EffectivePolicy } from "./policy.js";
import { regionPlan, routingWithProvider } from "./region-plan.js";
import { regionStatusStep } from "./region-status.js";
import type { SnapshotView } from "./snapshot-view.js";
import type { Framework } from "./vocabulary.js";

export { pinningVerdict, type PinningVerdict } from "./pinning.js";

// The decision order of docs/compliance-rules.md: steps 1–3 here, steps 4–6 and 8 from the policy's
// region plan (region-plan.ts: pinning, framework transfer rules, provider choice — request-independent,
// memoised per policy and region), step 7 (region status, failover) in region-status.ts.
//
// Hot path: an allowed decision is the policy and region lookups, one memo lookup and the decision
// object; its reasons array and routing are shared, frozen, from the plan. INFERENCE adds one array.
// Deny paths and non-HEALTHY regions may do more (alternatives, failover).

const NO_REGIONS: readonly string[] = Object.freeze([]);
const NO_FRAMEWORKS: readonly Framework[] = Object.freeze([]);

/**
 * Decides one request against one snapshot at `now` (epoch ms; emergency overrides will read it).
 *
 * Throws InvalidArgumentError (field `requested_region`, rule `region_exists`) when the requested region
 * is not in the catalog; the API edge normally rejects that first. Throws FailedPreconditionError when
 * the target comes from state (a policy's primary region, the configured default region) that names a
 * region the catalog no longer has: not the caller's mistake, and no decision can be made.
 */
export function decide(view: SnapshotView, request: DecisionRequest, now: number): Decision {
  // Step 2 runs first: it checks the request's shape, so the answer must not depend on whether a policy
  // exists — the same order as the API edge, which rejects an unknown region before deciding.
  const requested = request.requestedRegion;
  if (requested !== "" && view.region(requested) === undefined) throw unknownRequestedRegion(view, requested);

  // Step 1.
  let policy = view.effectivePolicy(request.tenantId, request.learnerId);
  let defaultReason: Reason | undefined;
  if (policy === undefined) {
    if (view.defaultRegion === undefined) return noPolicy(request);
    policy = defaultRegionPolicy(request.tenantId, request.learnerId, view.defaultRegion);
    defaultReason = defaultRegionReason(request, view.defaultRegion);
  }

  // Step 3.
  const target = requested || policy.primaryRegion;
  const region = view.region(target);
  if (region === undefined) throw targetNotInCatalog(policy, target);

  // Steps 4–6. PUBLIC data (the request's classification, else the policy's) skips the framework
  // transfer rules, not the prohibited regions.
  const publicData = (request.dataClassification ?? policy.dataClassification) === "PUBLIC";
  const plan = regionPlan(policy, region);
  const steps = publicData ? plan.public : plan.personal;
  let reasons: readonly Reason[] = defaultReason === undefined ? steps.reasons : [defaultReason, ...steps.reasons];
  // An active emergency override turns soft denies into an allow; hard ones stay (emergency-override.ts).
  let override: EmergencyOverride | undefined;
  if (steps.denied) {
    const waived = steps.withPinningWaived;
    override = coveringOverride(view, request, policy, target, now, waived);
    if (override === undefined) return deny(view, request, policy, target, reasons, publicData);
    reasons = defaultReason === undefined ? waived : [defaultReason, ...waived];
  }

  // Step 7.
  let judged = plan;
  if (region.status !== "HEALTHY") {
    const status = regionStatusStep(view, policy, plan, request, publicData);
    reasons = [...reasons, ...status.reasons];
    if (status.plan === undefined) return deny(view, request, policy, target, reasons, publicData);
    judged = status.plan;
  }
  const judgedId = judged.region.id;

  // Step 8.
  let routing: Routing = judged.routing;
  if (request.operation === "INFERENCE") {
    const inference = judged.inference();
    reasons = [...reasons, ...inference.reasons];
    if (inference.routing === undefined) {
      const provider = inference.overridableProvider;
      if (provider === undefined || !onlySoftDenies(inference.reasons)) {
        return deny(view, request, policy, judgedId, reasons, publicData);
      }
      override ??= coveringOverride(view, request, policy, target, now, inference.reasons);
      if (override === undefined) return deny(view, request, policy, judgedId, reasons, publicData);
      routing = routingWithProvider(judged.routing, provider);
    } else {
      routing = inference.routing;
    }
  }

  let overrideId = "";
  if (override !== undefined) {
    const overridden = reasons.filter((r) => r.effect === "DENY");
    reasons = [...reasons, ...overrideReasons(overridden, judgedId), overrideAppliedReason(override, overridden)];
    overrideId = override.overrideId;
  }

  return {
    allowed: true,
    targetRegion: judgedId,
    primaryRegion: policy.primaryRegion,
    crossRegion: judgedId !== policy.primaryRegion,
    reasons,
    routing,
    policyId: policy.policyId,
    policyVersion: policy.policyVersion,
    effectiveFrameworks: policy.complianceFrameworks,
    emergencyOverrideId: overrideId,
    alternativeRegions: NO_REGIONS,
  };
}

function coveringOverride(
  view: SnapshotView,
  request: DecisionRequest,
  policy: EffectivePolicy,
  target: string,
  now: number,
  reasons: readonly Reason[],
): EmergencyOverride | undefined {
  if (!onlySoftDenies(reasons)) return undefined;
  return findCoveringOverride(view.overridesFor(request.tenantId), request, policy, target, now);
}

function deny(
  view: SnapshotView,
  request: DecisionRequest,
  policy: EffectivePolicy,
  target: string,
  reasons: readonly Reason[],
  publicData: boolean,
): Decision {
  return {
    allowed: false,
    targetRegion: target,
    primaryRegion: policy.primaryRegion,
    crossRegion: target !== policy.primaryRegion,
    reasons,
    routing: undefined,
    policyId: policy.policyId,
    policyVersion: policy.policyVersion,
    effectiveFrameworks: policy.complianceFrameworks,
    emergencyOverrideId: "",
    alternativeRegions: alternativeRegions(view, policy, request, publicData),
  };
}

function noPolicy(request: DecisionRequest): Decision {
  const whose =
    request.learnerId === ""
      ? `tenant ${request.tenantId} has no policy`
      : `neither learner ${request.learnerId} nor tenant ${request.tenantId} has a policy`;
  return {
    allowed: false,
    targetRegion: "",
    primaryRegion: "",
    crossRegion: false,
    reasons: [
      {
        code: "NO_POLICY",
        message: `${whose} and no default region is configured for unpinned tenants: denied (fail closed)`,
        framework: undefined,
        effect: "DENY",
        overridable: false,
        region: "",
      },
    ],
    routing: undefined,
    policyId: "",
    policyVersion: 0,
    effectiveFrameworks: NO_FRAMEWORKS,
    emergencyOverrideId: "",
    alternativeRegions: NO_REGIONS,
  };
}

function defaultRegionReason(request: DecisionRequest, region: string): Reason {
  return {
    code: "DEFAULT_REGION",
    message: `tenant ${request.tenantId} has no policy; the default region for unpinned tenants, "${region}", applies`,
    framework: undefined,
    effect: "INFO",
    overridable: false,
    region,
  };
}

function unknownRequestedRegion(view: SnapshotView, requested: string): InvalidArgumentError {
  const known = view.regions.map((r) => r.id).join(", ");
  return new InvalidArgumentError([
    {
      field: "requested_region",
      rule: "region_exists",
      message: `requested_region "${requested.slice(0, 128)}" is not a known region; known regions: ${known}`,
    },
  ]);
}

function targetNotInCatalog(policy: EffectivePolicy, target: string): FailedPreconditionError {
  const source = policy.defaultRegionApplied ? "the configured default region" : `the primary region of ${describePolicy(policy)}`;
  return new FailedPreconditionError(`region "${target}", ${source}, is not in the region catalog`);
}
