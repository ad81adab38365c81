import type { FieldViolation } from "../errors.js";
import type { PolicyRuleInput } from "../policy-validation.js";
import { frameworkReason, providerNames, type FrameworkModule } from "./framework-module.js";

// COPPA: a child's data needs a written retention period (the period in force is capped, 365 days by
// default), and inference only from a provider with zero retention and no training. A hard rule:
// break-glass never overrides it.

function retentionRequired(input: PolicyRuleInput, out: FieldViolation[]): void {
  if (input.effective.dataRetentionDays !== undefined) return;
  const path = input.path("data_retention_days");
  const why = input.effective.coppaAddedForAge
    ? "COPPA applies to this learner (age band UNDER_13)"
    : "the policy's frameworks include COPPA";
  const where = input.isLearner ? " (on this policy or its tenant's)" : "";
  out.push({
    field: path,
    rule: "COPPA_RETENTION_REQUIRED",
    message: `${path} is required: ${why}, and COPPA needs a written retention period${where}, never indefinite`,
  });
}

export const COPPA: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "COPPA",
  breakGlass: false,
  policyRules: [retentionRequired],
  permitsProvider: (provider) => provider.zeroDataRetention && provider.noTraining,
  providerRejection: (region, rejected) =>
    frameworkReason(
      "COPPA",
      "COPPA_PROVIDER_NOT_PERMITTED",
      "DENY",
      `COPPA: inference on a child's data needs a provider with zero retention and no training (hard rule, not overridable); not permitted in region "${region.id}": ${providerNames(rejected)}`,
      region.id,
    ),
  retention: {
    cap: (settings) => settings.coppaRetentionCapDays,
    capped: (written, cap) =>
      frameworkReason(
        "COPPA",
        "COPPA_RETENTION_CAPPED",
        "OBLIGATION",
        written === undefined
          ? `COPPA: no retention period is written; the retention in force is capped at ${cap} days`
          : `COPPA: the written retention of ${written} days is kept, but the retention in force is capped at ${cap} days`,
        "",
      ),
  },
});
