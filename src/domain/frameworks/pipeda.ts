import type { FieldViolation } from "../errors.js";
import type { PolicyRuleInput } from "../policy-validation.js";
import type { Region } from "../region.js";
import { frameworkReason, regionLabel, type FrameworkModule } from "./framework-module.js";

// PIPEDA: the data lives in ca-central; a region outside Canada is allowed only when the policy lists it
// in allowed_regions — never because it is the primary region, a default or a failover — and such a
// transfer carries the obligation to notify individuals. Overridable.

const CA_CENTRAL = "ca-central";

function inCanada(region: Region): boolean {
  return region.country === "CA";
}

function primaryCaCentral(input: PolicyRuleInput, out: FieldViolation[]): void {
  const primary = input.effective.primaryRegion;
  if (primary === "" || primary === CA_CENTRAL || input.region(primary) === undefined) return;
  const path = input.path("primary_region");
  out.push({
    field: path,
    rule: "PIPEDA_PRIMARY_NOT_CA_CENTRAL",
    message: `${path} "${primary}"${input.inherited("primary_region")} is not ${CA_CENTRAL}: PIPEDA requires the primary region ${CA_CENTRAL}`,
  });
}

export const PIPEDA: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "PIPEDA",
  breakGlass: true,
  policyRules: [primaryCaCentral],
  // Inside Canada there is nothing to report: the rule table has no PIPEDA pass code.
  transfer: (policy, region) => {
    if (inCanada(region)) return undefined;
    return policy.allowedSet.has(region.id)
      ? frameworkReason(
          "PIPEDA",
          "PIPEDA_CROSS_BORDER_NOTICE",
          "OBLIGATION",
          `PIPEDA: ${regionLabel(region)} is outside Canada and listed in the policy's allowed regions: individuals must be notified of the cross-border transfer`,
          region.id,
        )
      : frameworkReason(
          "PIPEDA",
          "PIPEDA_CROSS_BORDER_NOT_LISTED",
          "DENY",
          `PIPEDA: ${regionLabel(region)} is outside Canada and not listed in the policy's allowed regions: cross-border transfer denied`,
          region.id,
          true,
        );
  },
  permitsFailoverTo: inCanada,
});
