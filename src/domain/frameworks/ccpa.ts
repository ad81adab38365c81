import { frameworkReason, providerNames, type FrameworkModule } from "./framework-module.js";

// CCPA: no rule on location; inference only from a provider that does not train on inputs. Overridable.

export const CCPA: FrameworkModule = Object.freeze<FrameworkModule>({
  framework: "CCPA",
  breakGlass: true,
  policyRules: [],
  permitsProvider: (provider) => provider.noTraining,
  providerRejection: (region, rejected) =>
    frameworkReason(
      "CCPA",
      "CCPA_PROVIDER_NOT_PERMITTED",
      "DENY",
      `CCPA: inference needs a provider that does not train on inputs; not permitted in region "${region.id}": ${providerNames(rejected)}`,
      region.id,
      true,
    ),
});
