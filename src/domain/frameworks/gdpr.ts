import type { Reason } from "../decision.js";
import type { FieldViolation } from "../errors.js";
import type { EffectivePolicy } from "../policy.js";
import type { PolicyRuleInput } from "../policy-validation.js";
import type { Region } from "../region.js";
import type { Safeguard } from "../vocabulary.js";
import { frameworkReason, providerNames, regionLabel, type FrameworkModule } from "./framework-module.js";

// GDPR: the data lives in the EEA; any region outside it needs a transfer basis — an adequacy decision
// (apac-east, ca-central) or a safeguard the policy lists (DPF covers US regions, SCC covers any).
// Break-glass may override it as an Art. 49 derogation, and the decision then says so.

/** Why a transfer to a region is lawful under GDPR, or undefined when nothing makes it so. */
export type GdprBasis = "WITHIN_EEA" | "ADEQUACY" | "DPF" | "SCC";

export function gdprBasis(region: Region, safeguards: readonly Safeguard[]): GdprBasis | undefined {
  if (region.legalArea === "EEA") return "WITHIN_EEA";
  if (region.gdprAdequacy) return "ADEQUACY";
  if (region.country === "US" && safeguards.includes("DPF")) return "DPF";
  if (safeguards.includes("SCC")) return "SCC";
  return undefined;
}

function primaryInEea(input: PolicyRuleInput, out: FieldViolation[]): void {
  const region = input.region(input.effective.primaryRegion);
  if (region === undefined || region.legalArea === "EEA") return;
  const path = input.path("primary_region");
  out.push({
    field: path,
    rule: "GDPR_PRIMARY_OUTSIDE_EEA",
    message: `${path} "${region.id}"${input.inherited("primary_region")} is outside the EEA (${region.country}): GDPR requires the primary region in the EEA`,
  });
}

function allowedRegionsHaveBasis(input: PolicyRuleInput, out: FieldViolation[]): void {
  const { allowedRegions, transferSafeguards } = input.effective;
  allowedRegions.forEach((id, i) => {
    const region = input.region(id);
    // A repeated entry is reported once, as no_duplicates.
    if (region === undefined || allowedRegions.indexOf(id) !== i || gdprBasis(region, transferSafeguards) !== undefined) return;
    const path = input.entryPath("allowed_regions", i);
    const dpf = region.country === "US" ? "DPF or " : "";
    out.push({
      field: path,
      rule: "GDPR_ALLOWED_REGION_NO_BASIS",
      message: `${path} "${id}"${input.inherited("allowed_regions")} is outside the EEA (${region.country}) with no transfer basis: GDPR needs an adequacy decision or a safeguard in transfer_safeguards (${dpf}SCC)`,
    });
  });
}

function transfer(policy: EffectivePolicy, region: Region): Reason {
  const basis = gdprBasis(region, policy.transferSafeguards);
  const where = regionLabel(region);
  switch (basis) {
    case "WITHIN_EEA":
      return frameworkReason("GDPR", "GDPR_TRANSFER_WITHIN_EEA", "PASS", `GDPR: ${where} is inside the EEA`, region.id);
    case "ADEQUACY":
      return frameworkReason(
        "GDPR",
        "GDPR_TRANSFER_ADEQUACY",
        "PASS",
        `GDPR: ${where} is outside the EEA; the transfer rests on an EU adequacy decision`,
        region.id,
      );
    case "DPF":
    case "SCC":
      return frameworkReason(
        "GDPR",
        "GDPR_TRANSFER_SAFEGUARD",
        "PASS",
        `GDPR: ${where} is outside the EEA; the transfer rests on safeguard ${basis} listed on the policy`,
        region.id,
      );
    case undefined:
      return frameworkReason(
        "GDPR",
        "GDPR_TRANSFER_NO_BASIS",
        "DENY",
        `GDPR: ${where} is outside the EEA with no adequacy decision and no listed safeguard (${region.country === "US" ? "DPF or SCC" : "SCC"}): transfer denied`,
        region.id,
        true,
      );
  }
}

export const GDPR: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "GDPR",
  breakGlass: true,
  policyRules: [primaryInEea, allowedRegionsHaveBasis],
  transfer,
  // Providers are in-region (a global-routing one is never chosen), so the endpoint is judged by the region.
  permitsProvider: (_provider, region) => region.legalArea === "EEA" || region.gdprAdequacy,
  providerRejection: (region, rejected) =>
    frameworkReason(
      "GDPR",
      "GDPR_PROVIDER_NOT_PERMITTED",
      "DENY",
      `GDPR: inference endpoints in ${regionLabel(region)} are outside the EEA and adequate countries: ${providerNames(rejected)} not permitted`,
      region.id,
      true,
    ),
  overrideReasons: (overridden, region) => [
    frameworkReason(
      "GDPR",
      "GDPR_ART49_DEROGATION",
      "INFO",
      `GDPR: the emergency override of ${overridden.map((r) => r.code).join(", ")} to region "${region}" is a transfer under an Art. 49 derogation (vital interests), to be documented`,
      region,
    ),
  ],
});
