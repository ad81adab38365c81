import { mergePolicyFields } from "./effective-policy.js";
import type { FieldViolation } from "./errors.js";
import { FRAMEWORK_POLICY_RULES } from "./frameworks/framework-registry.js";
import type { MergedPolicyFields, PolicyFields, StoredPolicy } from "./policy.js";
import type { Region } from "./region.js";

// Write-time validation of a policy. Every rule runs and every violation is returned, so a caller fixes
// a policy in one round trip. Rules are plain functions in POLICY_RULES; the per-framework rule modules
// (frameworks/: GDPR, FERPA, COPPA…) add theirs, which judge the effective (tenant + learner) fields.

export const MAX_ID_LENGTH = 128;
export const MAX_EMERGENCY_CONTACT_LENGTH = 320;
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 36_500;
const ID_CHARSET = /^[A-Za-z0-9._:@-]+$/;

/**
 * The region catalog to validate against. Prefer an enumerable form (a Map or the catalog's regions):
 * with a bare lookup function the catalog cannot be listed, so `region_exists` messages do not name the
 * known regions and `provider_exists` cannot be checked (it is skipped).
 */
export type RegionCatalog = ReadonlyMap<string, Region> | readonly Region[] | ((id: string) => Region | undefined);

export interface PolicyValidationContext {
  readonly regions: RegionCatalog;
  /** For a learner policy: its tenant's current policy, whose fields it inherits. Ignored for a tenant policy. */
  readonly tenantPolicy: StoredPolicy | undefined;
  /** Prepended to every field path, e.g. "policy" gives "policy.allowed_regions[1]"; may be empty. */
  readonly fieldPrefix: string;
}

/** What every rule reads: the fields, the inherited tenant policy, the catalog and a path builder. */
export interface PolicyRuleInput {
  readonly fields: PolicyFields;
  readonly isLearner: boolean;
  /** The tenant's policy when `fields` is a learner policy; undefined otherwise. */
  readonly tenantPolicy: StoredPolicy | undefined;
  /** The primary region a decision would use: the policy's own, else (learners) the tenant's; may be "". */
  readonly effectivePrimary: string;
  /** Catalog order; undefined when the catalog was given as a lookup function. */
  readonly regionIds: readonly string[] | undefined;
  /** Every provider id of the catalog; undefined when the catalog was given as a lookup function. */
  readonly providerIds: readonly string[] | undefined;
  region(id: string): Region | undefined;
  /** "policy.allowed_regions[1]" from ("allowed_regions", 1). */
  path(field: string, index?: number): string;
  /**
   * The effective fields a decision would use: a learner policy merged over its tenant's (COPPA added
   * for UNDER_13), a tenant policy's own. The framework rules judge these.
   */
  readonly effective: MergedPolicyFields;
  /**
   * " (inherited from tenant policy pol-t)" when this learner policy leaves `field` unset and the
   * effective value is its tenant's; "" otherwise.
   */
  inherited(field: InheritableField): string;
  /**
   * Path of entry `index` of an effective list: "policy.allowed_regions[1]" when the list is this
   * policy's own, the bare "policy.allowed_regions" when it is inherited (the entry is not in the request).
   */
  entryPath(field: InheritableField, index: number): string;
}

/** The fields whose unset value a learner policy inherits from its tenant's. */
export type InheritableField = "primary_region" | "allowed_regions" | "transfer_safeguards" | "inference_providers";

/** One write-time rule: appends a violation for each way the policy breaks it. */
export type PolicyRule = (input: PolicyRuleInput, violations: FieldViolation[]) => void;

export function validatePolicy(fields: PolicyFields, context: PolicyValidationContext): FieldViolation[] {
  const input = ruleInput(fields, context);
  const violations: FieldViolation[] = [];
  for (const rule of POLICY_RULES) rule(input, violations);
  return violations;
}

function ruleInput(fields: PolicyFields, context: PolicyValidationContext): PolicyRuleInput {
  const catalog = context.regions;
  const regions: readonly Region[] | undefined =
    typeof catalog === "function" ? undefined : Array.isArray(catalog) ? catalog : [...catalog.values()];
  const byId = regions === undefined ? undefined : new Map(regions.map((r) => [r.id, r] as const));
  const isLearner = fields.learnerId !== "";
  const tenantPolicy = isLearner ? context.tenantPolicy : undefined;
  const prefix = context.fieldPrefix;
  const path = (field: string, index?: number) =>
    `${prefix === "" ? "" : `${prefix}.`}${field}${index === undefined ? "" : `[${index}]`}`;
  const inheritsFrom = (field: InheritableField): StoredPolicy | undefined => {
    if (tenantPolicy === undefined) return undefined;
    const own = ownValue(fields, field);
    const theirs = ownValue(tenantPolicy, field);
    return own.length === 0 && theirs.length > 0 ? tenantPolicy : undefined;
  };
  return {
    fields,
    isLearner,
    tenantPolicy,
    effectivePrimary: fields.primaryRegion || (tenantPolicy?.primaryRegion ?? ""),
    regionIds: regions?.map((r) => r.id),
    providerIds: regions && [...new Set(regions.flatMap((r) => r.inferenceProviders.map((p) => p.id)))],
    region: byId === undefined ? (catalog as (id: string) => Region | undefined) : (id) => byId.get(id),
    path,
    // A tenant policy's age band is rejected (age_band learner_only), so it adds no COPPA either.
    effective: isLearner ? mergePolicyFields(tenantPolicy, fields) : mergePolicyFields({ ...fields, ageBand: undefined }, undefined),
    inherited: (field) => {
      const from = inheritsFrom(field);
      return from === undefined ? "" : ` (inherited from tenant policy ${from.policyId})`;
    },
    entryPath: (field, index) => (inheritsFrom(field) === undefined ? path(field, index) : path(field)),
  };
}

function ownValue(fields: PolicyFields, field: InheritableField): string | readonly string[] {
  switch (field) {
    case "primary_region":
      return fields.primaryRegion;
    case "allowed_regions":
      return fields.allowedRegions;
    case "transfer_safeguards":
      return fields.transferSafeguards;
    case "inference_providers":
      return fields.inferenceProviders;
  }
}

function identifiers(input: PolicyRuleInput, out: FieldViolation[]): void {
  const { tenantId, learnerId } = input.fields;
  if (tenantId === "") {
    out.push({ field: input.path("tenant_id"), rule: "required", message: `${input.path("tenant_id")} is required` });
  } else {
    checkIdentifier(input.path("tenant_id"), tenantId, out);
  }
  if (learnerId !== "") checkIdentifier(input.path("learner_id"), learnerId, out);
}

function primaryRegion(input: PolicyRuleInput, out: FieldViolation[]): void {
  const field = input.path("primary_region");
  const own = input.fields.primaryRegion;
  if (own !== "") {
    checkRegionId(input, field, own, out);
    return;
  }
  if (input.effectivePrimary !== "") return;
  const message = !input.isLearner
    ? `${field} is required: a tenant policy must name its primary region`
    : input.tenantPolicy === undefined
      ? `${field} is required: a learner policy with no tenant policy must name its own primary region`
      : `${field} is required: the tenant policy names no primary region to inherit`;
  out.push({ field, rule: "required", message });
}

function regionLists(input: PolicyRuleInput, out: FieldViolation[]): void {
  for (const field of ["allowed_regions", "prohibited_regions"] as const) {
    const list = field === "allowed_regions" ? input.fields.allowedRegions : input.fields.prohibitedRegions;
    forEachUnique(input, field, list, out, (id, path) => checkRegionId(input, path, id, out));
  }
}

function otherLists(input: PolicyRuleInput, out: FieldViolation[]): void {
  forEachUnique(input, "compliance_frameworks", input.fields.complianceFrameworks, out, () => {});
  forEachUnique(input, "transfer_safeguards", input.fields.transferSafeguards, out, () => {});
  forEachUnique(input, "inference_providers", input.fields.inferenceProviders, out, (id, path) => {
    const known = input.providerIds;
    if (known === undefined || known.includes(id)) return;
    out.push({
      field: path,
      rule: "provider_exists",
      message: `${path} "${clip(id)}" is not a provider of any region; known providers: ${known.join(", ")}`,
    });
  });
}

/** Checked against the effective primary and prohibited regions, so a learner cannot ban where its data lives. */
function primaryNotProhibited(input: PolicyRuleInput, out: FieldViolation[]): void {
  const primary = input.effectivePrimary;
  if (primary === "") return;
  const inherited = input.fields.primaryRegion === "";
  const own = input.fields.prohibitedRegions.indexOf(primary);
  if (own >= 0) {
    const path = input.path("prohibited_regions", own);
    const what = inherited
      ? `is the primary region this learner policy inherits from its tenant; name another primary_region or remove it`
      : `is also this policy's primary_region`;
    out.push({ field: path, rule: "primary_not_prohibited", message: `${path} "${primary}" ${what}` });
  } else if (input.tenantPolicy?.prohibitedRegions.includes(primary)) {
    const path = input.path("primary_region");
    out.push({
      field: path,
      rule: "primary_not_prohibited",
      message: `${path} "${primary}" is prohibited by the tenant policy ${input.tenantPolicy.policyId}`,
    });
  }
}

/** Checked after the tenant/learner merge: the effective allowed and prohibited regions must not meet. */
function allowedNotProhibited(input: PolicyRuleInput, out: FieldViolation[]): void {
  const { allowedRegions, prohibitedRegions } = input.fields;
  const tenant = input.tenantPolicy;
  forEachFirst(allowedRegions, (id, i) => {
    const path = input.path("allowed_regions", i);
    if (prohibitedRegions.includes(id)) {
      out.push({ field: path, rule: "allowed_not_prohibited", message: `${path} "${id}" is also in prohibited_regions` });
    } else if (tenant?.prohibitedRegions.includes(id)) {
      out.push({
        field: path,
        rule: "allowed_not_prohibited",
        message: `${path} "${id}" is prohibited by the tenant policy ${tenant.policyId}`,
      });
    }
  });
  if (allowedRegions.length > 0 || tenant === undefined) return;
  forEachFirst(prohibitedRegions, (id, i) => {
    if (!tenant.allowedRegions.includes(id)) return;
    const path = input.path("prohibited_regions", i);
    out.push({
      field: path,
      rule: "allowed_not_prohibited",
      message: `${path} "${id}" is an allowed region this learner policy inherits from tenant policy ${tenant.policyId}; list this policy's own allowed_regions without it`,
    });
  });
}

function retention(input: PolicyRuleInput, out: FieldViolation[]): void {
  const days = input.fields.dataRetentionDays;
  if (days === undefined) return;
  if (Number.isInteger(days) && days >= MIN_RETENTION_DAYS && days <= MAX_RETENTION_DAYS) return;
  const path = input.path("data_retention_days");
  out.push({
    field: path,
    rule: "range",
    message: `${path} must be a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}, got ${days}`,
  });
}

function ageBand(input: PolicyRuleInput, out: FieldViolation[]): void {
  if (input.fields.ageBand === undefined || input.isLearner) return;
  const path = input.path("age_band");
  out.push({ field: path, rule: "learner_only", message: `${path} may only be set on a learner policy` });
}

function emergencyContact(input: PolicyRuleInput, out: FieldViolation[]): void {
  if (input.fields.emergencyContact.length <= MAX_EMERGENCY_CONTACT_LENGTH) return;
  const path = input.path("emergency_contact");
  out.push({
    field: path,
    rule: "max_length",
    message: `${path} is longer than ${MAX_EMERGENCY_CONTACT_LENGTH} characters`,
  });
}

/** Run in order; the framework rule modules' rules come last (see frameworks/framework-registry.ts). */
const POLICY_RULES: readonly PolicyRule[] = [
  identifiers,
  primaryRegion,
  regionLists,
  otherLists,
  primaryNotProhibited,
  allowedNotProhibited,
  retention,
  ageBand,
  emergencyContact,
  ...FRAMEWORK_POLICY_RULES,
];

// Helpers shared by the rules.

/** Appends a violation when `value` is not a well-formed id (at most 128 characters of letters, digits and . _ : @ -). */
export function checkIdentifier(path: string, value: string, out: FieldViolation[]): boolean {
  if (value.length > MAX_ID_LENGTH) {
    out.push({ field: path, rule: "max_length", message: `${path} is longer than ${MAX_ID_LENGTH} characters` });
    return false;
  }
  if (!ID_CHARSET.test(value)) {
    out.push({
      field: path,
      rule: "charset",
      message: `${path} "${value}" may only contain letters, digits and . _ : @ -`,
    });
    return false;
  }
  return true;
}

function checkRegionId(input: PolicyRuleInput, path: string, id: string, out: FieldViolation[]): void {
  if (id !== "" && !checkIdentifier(path, id, out)) return;
  if (input.region(id) !== undefined) return;
  out.push({
    field: path,
    rule: "region_exists",
    message: `${path} "${id}" is not a known region${input.regionIds ? `; known regions: ${input.regionIds.join(", ")}` : ""}`,
  });
}

/** Reports each repeated entry (at its later index) and calls `check` once per distinct entry. */
function forEachUnique<T extends string>(
  input: PolicyRuleInput,
  field: string,
  list: readonly T[],
  out: FieldViolation[],
  check: (entry: T, path: string) => void,
): void {
  list.forEach((entry, i) => {
    const path = input.path(field, i);
    const first = list.indexOf(entry);
    if (first === i) {
      check(entry, path);
      return;
    }
    out.push({
      field: path,
      rule: "no_duplicates",
      message: `${path} "${clip(entry)}" repeats ${input.path(field, first)}`,
    });
  });
}

function forEachFirst<T>(list: readonly T[], visit: (entry: T, index: number) => void): void {
  list.forEach((entry, i) => {
    if (list.indexOf(entry) === i) visit(entry, i);
  });
}

/** Echoing a caller's value back: long values are cut so a message stays readable. */
function clip(value: string): string {
  return value.length > MAX_ID_LENGTH ? `${value.slice(0, MAX_ID_LENGTH)}…` : value;
}
