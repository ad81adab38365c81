import { describe, it, expect } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import type { FieldViolation } from "../../src/domain/errors.js";
import type { PolicyFields, StoredPolicy } from "../../src/domain/policy.js";
import { validatePolicy, type PolicyValidationContext } from "../../src/domain/policy-validation.js";
import { fields, stored } from "./fake-snapshot-view.js";

const TENANT_POLICY = stored({
  tenantId: "acme-edu",
  primaryRegion: "eu-west",
  allowedRegions: ["eu-central"],
  prohibitedRegions: ["us-east"],
});

function check(
  policy: Partial<PolicyFields>,
  context: Partial<PolicyValidationContext> = {},
): FieldViolation[] {
  return validatePolicy(fields(policy), {
    regions: DEFAULT_REGIONS,
    tenantPolicy: undefined,
    fieldPrefix: "policy",
    ...context,
  });
}

/** "field rule" pairs, in order, for compact expectations. */
function summary(violations: readonly FieldViolation[]): string[] {
  return violations.map((v) => `${v.field} ${v.rule}`);
}

const tenant = (p: Partial<PolicyFields>) => ({ tenantId: "acme-edu", primaryRegion: "eu-west", ...p });
const learner = (p: Partial<PolicyFields>) => ({ tenantId: "acme-edu", learnerId: "l-1", ...p });
const underTenant = { tenantPolicy: TENANT_POLICY as StoredPolicy };

interface Case {
  readonly name: string;
  readonly policy: Partial<PolicyFields>;
  readonly context?: Partial<PolicyValidationContext>;
  readonly expected: readonly string[];
}

const CASES: readonly Case[] = [
  { name: "a complete tenant policy is valid", expected: [], policy: tenant({
    allowedRegions: ["eu-central", "apac-east"], prohibitedRegions: ["us-east"], complianceFrameworks: ["GDPR"],
    dataRetentionDays: 365, emergencyContact: "dpo@acme.example", transferSafeguards: ["SCC"],
    inferenceProviders: ["aws-bedrock", "openai"], dataClassification: "EDUCATIONAL", allowCrossRegionFailover: true,
  }) },
  { name: "a learner policy that inherits everything is valid", policy: learner({}), context: underTenant, expected: [] },
  { name: "tenant_id is required", policy: tenant({ tenantId: "" }), expected: ["policy.tenant_id required"] },
  { name: "tenant_id at most 128 characters", policy: tenant({ tenantId: "t".repeat(129) }), expected: ["policy.tenant_id max_length"] },
  { name: "tenant_id of 128 characters is fine", policy: tenant({ tenantId: "t".repeat(128) }), expected: [] },
  { name: "tenant_id charset", policy: tenant({ tenantId: "acme edu" }), expected: ["policy.tenant_id charset"] },
  { name: "tenant_id may use . _ : @ -", policy: tenant({ tenantId: "a.b_c:d@e-f" }), expected: [] },
  { name: "learner_id at most 128 characters", policy: learner({ learnerId: "l".repeat(129) }), context: underTenant, expected: ["policy.learner_id max_length"] },
  { name: "learner_id charset", policy: learner({ learnerId: "l/1" }), context: underTenant, expected: ["policy.learner_id charset"] },
  { name: "a tenant policy needs a primary region", policy: tenant({ primaryRegion: "" }), expected: ["policy.primary_region required"] },
  { name: "a learner policy without a tenant policy needs a primary region", policy: learner({}), expected: ["policy.primary_region required"] },
  { name: "a learner policy without a tenant policy may name its own", policy: learner({ primaryRegion: "apac-east" }), expected: [] },
  { name: "primary region must exist", policy: tenant({ primaryRegion: "mars-1" }), expected: ["policy.primary_region region_exists"] },
  { name: "allowed regions must exist", policy: tenant({ allowedRegions: ["eu-central", "mars-1"] }), expected: ["policy.allowed_regions[1] region_exists"] },
  { name: "prohibited regions must exist", policy: tenant({ prohibitedRegions: ["venus"] }), expected: ["policy.prohibited_regions[0] region_exists"] },
  { name: "an empty region entry does not exist", policy: tenant({ allowedRegions: [""] }), expected: ["policy.allowed_regions[0] region_exists"] },
  { name: "region ids: charset before existence", policy: tenant({ allowedRegions: ["eu west"] }), expected: ["policy.allowed_regions[0] charset"] },
  { name: "region ids: length before existence", policy: tenant({ prohibitedRegions: ["r".repeat(200)] }), expected: ["policy.prohibited_regions[0] max_length"] },
  { name: "primary not prohibited", policy: tenant({ prohibitedRegions: ["us-east", "eu-west"] }), expected: ["policy.prohibited_regions[1] primary_not_prohibited"] },
  { name: "a learner may not prohibit the primary it inherits", policy: learner({ prohibitedRegions: ["eu-west"] }), context: underTenant, expected: ["policy.prohibited_regions[0] primary_not_prohibited"] },
  { name: "a learner may not take a primary its tenant prohibits", policy: learner({ primaryRegion: "us-east", allowedRegions: ["us-west"] }), context: underTenant, expected: ["policy.primary_region primary_not_prohibited"] },
  { name: "a learner with its own primary may prohibit the tenant's", policy: learner({ primaryRegion: "eu-central", allowedRegions: ["ca-central"], prohibitedRegions: ["eu-west"] }), context: underTenant, expected: [] },
  { name: "allowed and prohibited do not meet", policy: tenant({ allowedRegions: ["eu-central", "apac-east"], prohibitedRegions: ["apac-east"] }), expected: ["policy.allowed_regions[1] allowed_not_prohibited"] },
  { name: "a learner may not allow what its tenant prohibits", policy: learner({ allowedRegions: ["us-east"] }), context: underTenant, expected: ["policy.allowed_regions[0] allowed_not_prohibited"] },
  { name: "a learner may not prohibit a region it inherits as allowed", policy: learner({ prohibitedRegions: ["eu-central"] }), context: underTenant, expected: ["policy.prohibited_regions[0] allowed_not_prohibited"] },
  { name: "a learner with its own allowed list may prohibit the tenant's allowed region", policy: learner({ allowedRegions: ["ca-central"], prohibitedRegions: ["eu-central"] }), context: underTenant, expected: [] },
  { name: "no duplicate allowed regions", policy: tenant({ allowedRegions: ["eu-central", "apac-east", "eu-central"] }), expected: ["policy.allowed_regions[2] no_duplicates"] },
  { name: "no duplicate prohibited regions", policy: tenant({ prohibitedRegions: ["us-east", "us-east"] }), expected: ["policy.prohibited_regions[1] no_duplicates"] },
  { name: "no duplicate frameworks", policy: tenant({ complianceFrameworks: ["GDPR", "GDPR"] }), expected: ["policy.compliance_frameworks[1] no_duplicates"] },
  { name: "no duplicate safeguards", policy: tenant({ transferSafeguards: ["SCC", "DPF", "SCC"] }), expected: ["policy.transfer_safeguards[2] no_duplicates"] },
  { name: "no duplicate providers", policy: tenant({ inferenceProviders: ["openai", "openai"] }), expected: ["policy.inference_providers[1] no_duplicates"] },
  { name: "retention at least 1 day", policy: tenant({ dataRetentionDays: 0 }), expected: ["policy.data_retention_days range"] },
  { name: "retention at most 36500 days", policy: tenant({ dataRetentionDays: 36_501 }), expected: ["policy.data_retention_days range"] },
  { name: "retention in whole days", policy: tenant({ dataRetentionDays: 1.5 }), expected: ["policy.data_retention_days range"] },
  { name: "retention bounds are inclusive", policy: tenant({ dataRetentionDays: 36_500 }), expected: [] },
  { name: "retention of 1 day", policy: tenant({ dataRetentionDays: 1 }), expected: [] },
  { name: "age band only on learner policies", policy: tenant({ ageBand: "UNDER_13" }), expected: ["policy.age_band learner_only"] },
  { name: "age band on a learner policy (UNDER_13 brings COPPA, which needs a retention period)", policy: learner({ ageBand: "UNDER_13", dataRetentionDays: 180 }), context: underTenant, expected: [] },
  { name: "an UNDER_13 learner without a retention period breaks COPPA", policy: learner({ ageBand: "UNDER_13" }), context: underTenant, expected: ["policy.data_retention_days COPPA_RETENTION_REQUIRED"] },
  { name: "emergency contact at most 320 characters", policy: tenant({ emergencyContact: "x".repeat(321) }), expected: ["policy.emergency_contact max_length"] },
  { name: "emergency contact of 320 characters", policy: tenant({ emergencyContact: "x".repeat(320) }), expected: [] },
  { name: "providers must exist in the catalog", policy: tenant({ inferenceProviders: ["aws-bedrock", "deepthought"] }), expected: ["policy.inference_providers[1] provider_exists"] },
  { name: "a provider of another region exists", policy: tenant({ inferenceProviders: ["anthropic"] }), expected: [] },
  { name: "an empty prefix gives bare field names", policy: tenant({ tenantId: "" }), context: { fieldPrefix: "" }, expected: ["tenant_id required"] },
  { name: "a Map catalog", policy: tenant({ allowedRegions: ["mars-1"] }), context: { regions: new Map(DEFAULT_REGIONS.map((r) => [r.id, r])) }, expected: ["policy.allowed_regions[0] region_exists"] },
];

describe("validatePolicy", () => {
  it.each(CASES)("$name", ({ policy, context, expected }) => {
    expect(summary(check(policy, context))).toEqual(expected);
  });

  it("returns every violation at once, with field paths", () => {
    const violations = check({
      tenantId: "acme edu",
      learnerId: "",
      primaryRegion: "",
      allowedRegions: ["eu-central", "mars-1", "eu-central"],
      prohibitedRegions: ["eu-central"],
      dataRetentionDays: 0,
      ageBand: "ADULT",
      emergencyContact: "x".repeat(400),
      inferenceProviders: ["nope"],
    });
    expect(summary(violations)).toEqual([
      "policy.tenant_id charset",
      "policy.primary_region required",
      "policy.allowed_regions[1] region_exists",
      "policy.allowed_regions[2] no_duplicates",
      "policy.inference_providers[0] provider_exists",
      "policy.allowed_regions[0] allowed_not_prohibited",
      "policy.data_retention_days range",
      "policy.age_band learner_only",
      "policy.emergency_contact max_length",
    ]);
  });

  it("messages name the field and what the rule wants", () => {
    const [region] = check(tenant({ allowedRegions: ["mars-1"] }));
    expect(region!.message).toBe(
      'policy.allowed_regions[0] "mars-1" is not a known region; known regions: us-east, us-west, eu-west, eu-central, apac-south, apac-east, ca-central',
    );
    const [provider] = check(tenant({ inferenceProviders: ["deepthought"] }));
    expect(provider!.message).toContain("policy.inference_providers[0]");
    expect(provider!.message).toContain("aws-bedrock, openai, anthropic");
    const [primary] = check(learner({}));
    expect(primary!.message).toContain("a learner policy with no tenant policy must name its own primary region");
    const [inherited] = check(learner({ prohibitedRegions: ["eu-west"] }), underTenant);
    expect(inherited!.message).toContain("inherits");
    for (const v of check({ tenantId: "", primaryRegion: "x y", dataRetentionDays: -1, ageBand: "ADULT" })) {
      expect(v.message.startsWith(v.field)).toBe(true);
    }
  });

  it("the tenant policy is ignored when validating a tenant policy", () => {
    expect(summary(check(tenant({ allowedRegions: ["us-east"] }), underTenant))).toEqual([]);
  });

  it("a lookup-function catalog checks regions but cannot list them or check providers", () => {
    const byId = new Map(DEFAULT_REGIONS.map((r) => [r.id, r]));
    const violations = check(tenant({ allowedRegions: ["mars-1"], inferenceProviders: ["deepthought"] }), {
      regions: (id: string) => byId.get(id),
    });
    expect(summary(violations)).toEqual(["policy.allowed_regions[0] region_exists"]);
    expect(violations[0]!.message).toBe('policy.allowed_regions[0] "mars-1" is not a known region');
  });
});
