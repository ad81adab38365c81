import type { FieldViolation } from "../errors.js";
import type { PolicyRuleInput } from "../policy-validation.js";
import { frameworkReason, regionLabel, type FrameworkModule } from "./framework-module.js";

// LGPD (planned): there is no Brazilian region, so every region is a transfer from Brazil and rests on
// the SCC safeguard, the only basis. Overridable.

function sccRequired(input: PolicyRuleInput, out: FieldViolation[]): void {
  if (input.effective.transferSafeguards.includes("SCC")) return;
  const path = input.path("transfer_safeguards");
  out.push({
    field: path,
    rule: "LGPD_SAFEGUARD_REQUIRED",
    message: `${path} must list SCC${input.inherited("transfer_safeguards")}: LGPD support needs it, because there is no Brazilian region and every region is a transfer from Brazil`,
  });
}

export const LGPD: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "LGPD",
  breakGlass: true,
  policyRules: [sccRequired],
  transfer: (policy, region) =>
    policy.transferSafeguards.includes("SCC")
      ? frameworkReason(
          "LGPD",
          "LGPD_TRANSFER_SAFEGUARD",
          "PASS",
          `LGPD: the transfer to ${regionLabel(region)} rests on safeguard SCC listed on the policy`,
          region.id,
        )
      : frameworkReason(
          "LGPD",
          "LGPD_SAFEGUARD_REQUIRED",
          "DENY",
          `LGPD: the transfer to ${regionLabel(region)} needs safeguard SCC, which the policy does not list: denied`,
          region.id,
          true,
        ),
});
