import type { FieldViolation } from "../errors.js";
import type { PolicyRuleInput } from "../policy-validation.js";
import type { Region } from "../region.js";
import { frameworkReason, providerNames, regionLabel, type FrameworkModule } from "./framework-module.js";

// FERPA: education records stay in the US or Canada, and inference only from a zero-retention provider.
// Break-glass may override it (the health-or-safety emergency exception).

export function inUsOrCanada(region: Region): boolean {
  return region.country === "US" || region.country === "CA";
}

function primaryInUsCa(input: PolicyRuleInput, out: FieldViolation[]): void {
  const region = input.region(input.effective.primaryRegion);
  if (region === undefined || inUsOrCanada(region)) return;
  const path = input.path("primary_region");
  out.push({
    field: path,
    rule: "FERPA_PRIMARY_OUTSIDE_US_CA",
    message: `${path} "${region.id}"${input.inherited("primary_region")} is outside the US and Canada (${region.country}): FERPA requires the primary region in the US or Canada`,
  });
}

function allowedInUsCa(input: PolicyRuleInput, out: FieldViolation[]): void {
  const allowed = input.effective.allowedRegions;
  allowed.forEach((id, i) => {
    const region = input.region(id);
    // A repeated entry is reported once, as no_duplicates.
    if (region === undefined || allowed.indexOf(id) !== i || inUsOrCanada(region)) return;
    const path = input.entryPath("allowed_regions", i);
    out.push({
      field: path,
      rule: "FERPA_ALLOWED_REGION_OUTSIDE_US_CA",
      message: `${path} "${id}"${input.inherited("allowed_regions")} is outside the US and Canada (${region.country}): FERPA allows regions only in the US or Canada`,
    });
  });
}

export const FERPA: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "FERPA",
  breakGlass: true,
  policyRules: [primaryInUsCa, allowedInUsCa],
  transfer: (_policy, region) =>
    inUsOrCanada(region)
      ? frameworkReason("FERPA", "FERPA_WITHIN_US_CA", "PASS", `FERPA: ${regionLabel(region)} is in the US or Canada`, region.id)
      : frameworkReason(
          "FERPA",
          "FERPA_OUTSIDE_US_CA",
          "DENY",
          `FERPA: ${regionLabel(region)} is outside the US and Canada: education records may not go there`,
          region.id,
          true,
        ),
  permitsProvider: (provider) => provider.zeroDataRetention,
  providerRejection: (region, rejected) =>
    frameworkReason(
      "FERPA",
      "FERPA_PROVIDER_NOT_PERMITTED",
      "DENY",
      `FERPA: inference needs a zero-data-retention provider; not permitted in region "${region.id}": ${providerNames(rejected)}`,
      region.id,
      true,
    ),
});
