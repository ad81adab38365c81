import type { Decision, DecisionRequest, Reason, Routing } from "./decision.js";
import { defaultRegionPolicy } from "./effective-policy.js";
import { FailedPreconditionError, InvalidArgumentError } from "./errors.js";
import type { EffectivePolicy } from "./policy.js";
import type { Region } from "./region.js";
import type { SnapshotView } from "./snapshot-view.js";
import type { Framework, ReasonCode } from "./vocabulary.js";

// The decision order of docs/compliance-rules.md. Steps 1–5 are here; steps 6–8 (frameworks, region
// status and failover, inference provider) join at the two places marked "Steps 6–8".
//
// Hot path: an allowed decision is two Map lookups, two Set lookups and four small objects (the
// decision, its reasons array, one reason, the routing). Deny paths may do more (alternatives).

const NO_REGIONS: readonly string[] = Object.freeze([]);
const NO_FRAMEWORKS: readonly Framework[] = Object.freeze([]);

/** Outcome of the pinning steps (4 and 5) for one target region. */
export type PinningVerdict = Extract<
  ReasonCode,
  "PRIMARY_REGION" | "ALLOWED_REGION" | "REGION_PROHIBITED" | "REGION_NOT_ALLOWED"
>;

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

  // Steps 4 and 5.
  const verdict = pinningVerdict(policy, target);
  const pinning = pinningReason(verdict, policy, target);
  const reasons = defaultReason === undefined ? [pinning] : [defaultReason, pinning];
  if (pinning.effect === "DENY") return deny(view, request, policy, target, reasons, now);

  // Steps 6–8 run here, appending their reasons; a deny among them returns deny(...).
  return {
    allowed: true,
    targetRegion: target,
    primaryRegion: policy.primaryRegion,
    crossRegion: target !== policy.primaryRegion,
    reasons,
    routing: routingTo(region),
    policyId: policy.policyId,
    policyVersion: policy.policyVersion,
    effectiveFrameworks: policy.complianceFrameworks,
    emergencyOverrideId: "",
    alternativeRegions: NO_REGIONS,
  };
}

/** Steps 4 and 5: prohibited wins over everything, then the target must be the primary or allowed. */
export function pinningVerdict(policy: EffectivePolicy, target: string): PinningVerdict {
  if (policy.prohibitedSet.has(target)) return "REGION_PROHIBITED";
  if (target === policy.primaryRegion) return "PRIMARY_REGION";
  if (policy.allowedSet.has(target)) return "ALLOWED_REGION";
  return "REGION_NOT_ALLOWED";
}

/**
 * Would the same request, with `region` as its requested region, be allowed? The counterfactual behind
 * a deny's alternatives: it must run the very rules decide() runs, without building reasons.
 */
function wouldAllow(policy: EffectivePolicy, region: Region, _request: DecisionRequest, _now: number): boolean {
  const verdict = pinningVerdict(policy, region.id);
  if (verdict === "REGION_PROHIBITED" || verdict === "REGION_NOT_ALLOWED") return false;
  // Steps 6–8 join here with the same rule functions decide() uses.
  return true;
}

function deny(
  view: SnapshotView,
  request: DecisionRequest,
  policy: EffectivePolicy,
  target: string,
  reasons: readonly Reason[],
  now: number,
): Decision {
  const alternativeRegions: string[] = [];
  for (const region of view.regions) {
    if (wouldAllow(policy, region, request, now)) alternativeRegions.push(region.id);
  }
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
    alternativeRegions,
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

function pinningReason(verdict: PinningVerdict, policy: EffectivePolicy, target: string): Reason {
  switch (verdict) {
    case "PRIMARY_REGION":
      return reason(verdict, `region "${target}" is the primary region of ${describe(policy)}`, "PASS", target);
    case "ALLOWED_REGION":
      return reason(verdict, `region "${target}" is an allowed region of ${describe(policy)}`, "PASS", target);
    case "REGION_PROHIBITED":
      return reason(verdict, `region "${target}" is prohibited by ${describe(policy)}`, "DENY", target);
    case "REGION_NOT_ALLOWED":
      return reason(
        verdict,
        `region "${target}" is neither the primary region ("${policy.primaryRegion}") nor an allowed region of ${describe(policy)}`,
        "DENY",
        target,
      );
  }
}

/** Pinning denies are soft: an emergency override for this learner and region may allow them. */
function reason(code: PinningVerdict, message: string, effect: "PASS" | "DENY", region: string): Reason {
  return { code, message, framework: undefined, effect, overridable: effect === "DENY", region };
}

/** "policy pol-1 for tenant acme-edu", "policy pol-2 for learner l-7 of tenant acme-edu". */
function describe(policy: EffectivePolicy): string {
  const whom = policy.learnerId === "" ? `tenant ${policy.tenantId}` : `learner ${policy.learnerId} of tenant ${policy.tenantId}`;
  return policy.defaultRegionApplied ? `the default-region setting for ${whom}` : `policy ${policy.policyId} for ${whom}`;
}

function routingTo(region: Region): Routing {
  return {
    region: region.id,
    storageBucket: region.storageBucket,
    storageEndpoint: region.storageEndpoint,
    searchEndpoint: region.searchEndpoint,
    inferenceProvider: "",
    inferenceEndpoint: "",
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
  const source = policy.defaultRegionApplied ? "the configured default region" : `the primary region of ${describe(policy)}`;
  return new FailedPreconditionError(`region "${target}", ${source}, is not in the region catalog`);
}
