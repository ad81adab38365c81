import type { Reason } from "./decision.js";
import type { FrameworkModule } from "./frameworks/framework-module.js";
import { modulesOf } from "./frameworks/framework-registry.js";
import type { MergedPolicyFields } from "./policy.js";

// What a decision needs to know about a policy's frameworks, resolved once when the policy is merged:
// which modules run at which step, and the reasons that do not depend on the target region.

export interface ComplianceProfile {
  /** The effective frameworks' modules, in registry order. */
  readonly modules: readonly FrameworkModule[];
  /** Those with a transfer rule (step 6). */
  readonly transferModules: readonly FrameworkModule[];
  /** Those that restrict failover targets (step 7). */
  readonly failoverModules: readonly FrameworkModule[];
  /** Those with a provider rule (step 8). */
  readonly providerModules: readonly FrameworkModule[];
  /** INFO reasons reported once pinning passes: COPPA_ADDED_FOR_AGE when the age band added COPPA. */
  readonly notes: readonly Reason[];
  /** INFO PUBLIC_DATA for PUBLIC data; undefined when no framework has a transfer rule to skip. */
  readonly publicData: Reason | undefined;
  /** The policy's provider allowlist; empty means any provider. */
  readonly providerAllowlist: ReadonlySet<string>;
}

const NONE: readonly never[] = Object.freeze([]);

/** For a policy with no frameworks and no allowlist (the default-region policy). */
export const EMPTY_COMPLIANCE_PROFILE: ComplianceProfile = Object.freeze({
  modules: NONE,
  transferModules: NONE,
  failoverModules: NONE,
  providerModules: NONE,
  notes: NONE,
  publicData: undefined,
  providerAllowlist: new Set<never>(),
});

/** `whom`: "learner l-1 of tenant acme-edu", for the messages. */
export function complianceProfile(merged: MergedPolicyFields, whom: string): ComplianceProfile {
  const modules = modulesOf(merged.complianceFrameworks);
  const transferModules = modules.filter((m) => m.transfer !== undefined);
  const notes: Reason[] = [];
  if (merged.coppaAddedForAge) {
    notes.push(
      Object.freeze({
        code: "COPPA_ADDED_FOR_AGE",
        message: `${whom} is under 13 (age band UNDER_13): COPPA applies in addition to the policy's frameworks`,
        framework: "COPPA",
        effect: "INFO",
        overridable: false,
        region: "",
      }),
    );
  }
  const skipped = transferModules.map((m) => m.framework);
  return Object.freeze({
    modules,
    transferModules,
    failoverModules: modules.filter((m) => m.permitsFailoverTo !== undefined),
    providerModules: modules.filter((m) => m.permitsProvider !== undefined),
    notes: Object.freeze(notes),
    publicData:
      skipped.length === 0
        ? undefined
        : Object.freeze({
            code: "PUBLIC_DATA",
            message: `data classified PUBLIC carries no personal data: the transfer rules of ${skipped.join(", ")} do not apply (prohibited regions and provider rules still do)`,
            framework: undefined,
            effect: "INFO",
            overridable: false,
            region: "",
          }),
    providerAllowlist: new Set(merged.inferenceProviders),
  });
}
