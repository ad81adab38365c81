import type { Reason, Routing } from "./decision.js";
import { pinningReason, pinningVerdict } from "./pinning.js";
import type { EffectivePolicy } from "./policy.js";
import type { InferenceProvider, Region } from "./region.js";

// Everything a decision knows about one target region that does not depend on the request: the
// outcome of steps 4–6 (pinning, then the framework transfer rules, for personal and for PUBLIC data),
// the routing, and step 8's provider choice. Built once per policy and region and memoised on the
// policy (EffectivePolicy.regionPlans), so a decision is a lookup. Region status (step 7) is not in a
// plan: it is judged per decision.

/** Steps 4–6 for one classification. */
export interface StepsOutcome {
  /** In decision order: the pinning reason; when it passes, the policy's notes and the transfer reasons. */
  readonly reasons: readonly Reason[];
  /** The pinning and transfer reasons alone: what a failover target adds to a decision. */
  readonly regionReasons: readonly Reason[];
  /** A reason above denies. */
  readonly denied: boolean;
  /**
   * What steps 4–6 report when an emergency override waives a pinning deny: the first deny stops the
   * steps, but an override must not skip the framework rules behind it (a hard one keeps the deny, a soft
   * one is listed as overridden). Equal to `reasons` when pinning passes.
   */
  readonly withPinningWaived: readonly Reason[];
}

/** Step 8 in one region. */
export interface InferenceOutcome {
  /** The first provider, in catalog order, that every effective framework and the allowlist permit. */
  readonly provider: InferenceProvider | undefined;
  /**
   * PASS INFERENCE_PROVIDER_SELECTED; or each framework's *_PROVIDER_NOT_PERMITTED naming the providers
   * it rejected, then DENY INFERENCE_NO_COMPLIANT_PROVIDER.
   */
  readonly reasons: readonly Reason[];
  /** The routing with the provider; undefined when none was selected. */
  readonly routing: Routing | undefined;
  /**
   * When none was selected: the first provider rejected by overridable framework rules only (not by a
   * hard rule, the allowlist or global routing) — what an emergency override may select. The
   * INFERENCE_NO_COMPLIANT_PROVIDER reason is overridable exactly when there is one.
   */
  readonly overridableProvider: InferenceProvider | undefined;
}

export interface RegionPlan {
  readonly region: Region;
  /** Steps 4–6 for personal data (every classification but PUBLIC). */
  readonly personal: StepsOutcome;
  /** Steps 4–6 for PUBLIC data: framework transfer rules skipped, prohibited regions still apply. */
  readonly public: StepsOutcome;
  /** The routing without an inference provider. */
  readonly routing: Routing;
  /** Step 8, computed on first call. */
  inference(): InferenceOutcome;
}

/** The plan for `region` under `policy`, from the policy's memo when it was built for this Region object. */
export function regionPlan(policy: EffectivePolicy, region: Region): RegionPlan {
  const memo = policy.regionPlans;
  if (memo === undefined) return buildRegionPlan(policy, region);
  const found = memo.get(region.id);
  if (found !== undefined && found.region === region) return found;
  const plan = buildRegionPlan(policy, region);
  memo.set(region.id, plan);
  return plan;
}

function buildRegionPlan(policy: EffectivePolicy, region: Region): RegionPlan {
  const pinning = pinningReason(pinningVerdict(policy, region.id), policy, region.id);
  const routing = routingTo(region, undefined);
  let inference: InferenceOutcome | undefined;
  const steps = stepsOutcomes(policy, region, pinning);
  const plan: RegionPlan = {
    region,
    personal: steps.personal,
    public: steps.public,
    routing,
    inference: () => (inference ??= chooseProvider(policy, region, routing)),
  };
  return Object.freeze(plan);
}

function stepsOutcomes(
  policy: EffectivePolicy,
  region: Region,
  pinning: Reason,
): Pick<RegionPlan, "personal" | "public"> {
  const { notes, transferModules, publicData } = policy.compliance;
  const transfer: Reason[] = [];
  for (const module of transferModules) {
    const reason = module.transfer!(policy, region);
    if (reason !== undefined) transfer.push(reason);
  }
  if (pinning.effect === "DENY") {
    return {
      personal: outcome([pinning], [pinning], true, [pinning, ...notes, ...transfer]),
      public: outcome([pinning], [pinning], true, publicData === undefined ? [pinning, ...notes] : [pinning, ...notes, publicData]),
    };
  }
  const pinned = [pinning];
  return {
    personal: outcome(
      [pinning, ...notes, ...transfer],
      [pinning, ...transfer],
      transfer.some((r) => r.effect === "DENY"),
    ),
    public: outcome(publicData === undefined ? [pinning, ...notes] : [pinning, ...notes, publicData], pinned, false),
  };
}

function outcome(reasons: Reason[], regionReasons: Reason[], denied: boolean, withPinningWaived?: Reason[]): StepsOutcome {
  const frozen = Object.freeze(reasons);
  return Object.freeze({
    reasons: frozen,
    regionReasons: Object.freeze(regionReasons),
    denied,
    withPinningWaived: withPinningWaived === undefined ? frozen : Object.freeze(withPinningWaived),
  });
}

function chooseProvider(policy: EffectivePolicy, region: Region, base: Routing): InferenceOutcome {
  const { providerModules, providerAllowlist } = policy.compliance;
  const rejectedBy: InferenceProvider[][] = providerModules.map(() => []);
  const unlisted: InferenceProvider[] = [];
  const global: InferenceProvider[] = [];
  let overridableProvider: InferenceProvider | undefined;
  for (const provider of region.inferenceProviders) {
    // A provider that processes in any country is never chosen for a pinned tenant.
    if (provider.globalRouting) {
      global.push(provider);
      continue;
    }
    let rejected = false;
    let hard = false;
    if (providerAllowlist.size > 0 && !providerAllowlist.has(provider.id)) {
      unlisted.push(provider);
      rejected = hard = true;
    }
    providerModules.forEach((module, i) => {
      if (module.permitsProvider!(provider, region)) return;
      rejectedBy[i]!.push(provider);
      rejected = true;
      if (!module.breakGlass) hard = true;
    });
    if (!rejected) return selected(policy, region, provider, base);
    if (!hard) overridableProvider ??= provider;
  }

  const reasons: Reason[] = [];
  providerModules.forEach((module, i) => {
    const rejected = rejectedBy[i]!;
    if (rejected.length > 0) reasons.push(module.providerRejection!(region, rejected));
  });
  const why: string[] = [];
  if (region.inferenceProviders.length === 0) why.push("the region has no inference provider");
  if (reasons.length > 0) why.push(`rejected by ${reasons.map((r) => r.framework).join(", ")}`);
  if (unlisted.length > 0) {
    why.push(`not on the policy's provider allowlist (${[...providerAllowlist].join(", ")}): ${names(unlisted)}`);
  }
  if (global.length > 0) why.push(`routing globally (never chosen for a pinned tenant): ${names(global)}`);
  reasons.push(
    Object.freeze({
      code: "INFERENCE_NO_COMPLIANT_PROVIDER",
      message: `no inference provider in region "${region.id}" is permitted by every effective framework and the allowlist: ${why.join("; ")}`,
      framework: undefined,
      effect: "DENY",
      overridable: overridableProvider !== undefined,
      region: region.id,
    }),
  );
  return Object.freeze({ provider: undefined, reasons: Object.freeze(reasons), routing: undefined, overridableProvider });
}

function selected(policy: EffectivePolicy, region: Region, provider: InferenceProvider, base: Routing): InferenceOutcome {
  const { providerModules, providerAllowlist } = policy.compliance;
  const by: string[] = providerModules.map((m) => m.framework);
  if (providerAllowlist.size > 0) by.push("the policy's provider allowlist");
  const permitted = by.length === 0 ? "no framework restricts providers" : `permitted by ${by.join(", ")}`;
  const reason: Reason = Object.freeze({
    code: "INFERENCE_PROVIDER_SELECTED",
    message: `inference provider "${provider.id}" selected in region "${region.id}" (${provider.endpoint}): first in catalog order, ${permitted}`,
    framework: undefined,
    effect: "PASS",
    overridable: false,
    region: region.id,
  });
  return Object.freeze({
    provider,
    reasons: Object.freeze([reason]),
    routing: Object.freeze(routingWithProvider(base, provider)),
    overridableProvider: undefined,
  });
}

/** The region's routing with an inference provider chosen (a literal, not a spread: see effective-policy.ts). */
export function routingWithProvider(base: Routing, provider: InferenceProvider): Routing {
  return {
    region: base.region,
    storageBucket: base.storageBucket,
    storageEndpoint: base.storageEndpoint,
    searchEndpoint: base.searchEndpoint,
    inferenceProvider: provider.id,
    inferenceEndpoint: provider.endpoint,
  };
}

function routingTo(region: Region, provider: InferenceProvider | undefined): Routing {
  return Object.freeze({
    region: region.id,
    storageBucket: region.storageBucket,
    storageEndpoint: region.storageEndpoint,
    searchEndpoint: region.searchEndpoint,
    inferenceProvider: provider?.id ?? "",
    inferenceEndpoint: provider?.endpoint ?? "",
  });
}

function names(providers: readonly InferenceProvider[]): string {
  return providers.map((p) => p.id).join(", ");
}
