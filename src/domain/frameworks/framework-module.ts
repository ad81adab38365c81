import type { Reason } from "../decision.js";
import type { EffectivePolicy } from "../policy.js";
import type { PolicyRule } from "../policy-validation.js";
import type { InferenceProvider, Region } from "../region.js";
import type { Framework, ReasonCode, ReasonEffect } from "../vocabulary.js";
import type { ComplianceSettings } from "./compliance-settings.js";

// One compliance framework's rows of the rule table (docs/compliance-rules.md), as data and small pure
// functions. The registry (framework-registry.ts) lists the modules; validatePolicy runs their
// write-time rules, the region plan (region-plan.ts) runs their decision-time rules.

/** One framework: its write-time rules, its decision-time rules, and whether break-glass may override it. */
export interface FrameworkModule {
  readonly framework: Framework;
  /**
   * May an emergency override (break-glass) turn this framework's denies into an allow? False is a hard
   * rule (COPPA): its denies are never overridable.
   */
  readonly breakGlass: boolean;
  /** Write-time rules, run over the effective (tenant + learner) fields by validatePolicy. */
  readonly policyRules: readonly PolicyRule[];
  /**
   * Step 6, the transfer rule for a target region: a PASS, DENY or OBLIGATION reason, or undefined when
   * the framework has no location rule for this target. Absent when the framework has no transfer rule.
   * Not run for PUBLIC data.
   */
  readonly transfer?: (policy: EffectivePolicy, region: Region) => Reason | undefined;
  /** Step 7: may a failover (not a caller's choice) move the data to `region`? Absent: yes. */
  readonly permitsFailoverTo?: (region: Region) => boolean;
  /** Step 8: does the framework permit this provider, which serves `region`? Absent: no provider rule. */
  readonly permitsProvider?: (provider: InferenceProvider, region: Region) => boolean;
  /** Step 8: the deny naming the providers this framework rejected in `region`. */
  readonly providerRejection?: (region: Region, rejected: readonly InferenceProvider[]) => Reason;
  /** Merge time: a cap on the retention in force, with the obligation reported when it bites. */
  readonly retention?: {
    cap(settings: ComplianceSettings): number;
    /** `written` is undefined when no policy sets a retention period (indefinite). */
    capped(written: number | undefined, cap: number): Reason;
  };
  /**
   * When an emergency override overrides some of this framework's soft denies (`overridden`, all with
   * this framework), the extra reasons the decision must carry (GDPR: the Art. 49 derogation).
   */
  readonly overrideReasons?: (overridden: readonly Reason[], region: string) => readonly Reason[];
}

/** A frozen reason produced by a framework rule. Denies are overridable exactly when the framework allows break-glass. */
export function frameworkReason(
  framework: Framework,
  code: ReasonCode,
  effect: ReasonEffect,
  message: string,
  region: string,
  overridable = false,
): Reason {
  return Object.freeze({ code, message, framework, effect, overridable: effect === "DENY" && overridable, region });
}

/** "aws-bedrock, openai". */
export function providerNames(providers: readonly InferenceProvider[]): string {
  return providers.map((p) => p.id).join(", ");
}

/** `region "us-east" (US)`: the id and the country, which most framework rules turn on. */
export function regionLabel(region: Region): string {
  return `region "${region.id}" (${region.country})`;
}
