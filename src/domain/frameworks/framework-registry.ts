import type { Reason } from "../decision.js";
import type { FieldViolation } from "../errors.js";
import type { PolicyRule, PolicyRuleInput } from "../policy-validation.js";
import type { Framework } from "../vocabulary.js";
import { CCPA } from "./ccpa.js";
import { COPPA } from "./coppa.js";
import type { ComplianceSettings } from "./compliance-settings.js";
import type { FrameworkModule } from "./framework-module.js";
import { FERPA } from "./ferpa.js";
import { GDPR } from "./gdpr.js";
import { LGPD } from "./lgpd.js";
import { PIPEDA } from "./pipeda.js";

/** Every framework module, in the order of FRAMEWORKS: the order their rules run and their reasons appear. */
export const FRAMEWORK_MODULES: readonly FrameworkModule[] = Object.freeze([GDPR, CCPA, FERPA, COPPA, PIPEDA, LGPD]);

const BY_FRAMEWORK: ReadonlyMap<Framework, FrameworkModule> = new Map(FRAMEWORK_MODULES.map((m) => [m.framework, m]));

export function frameworkModule(framework: Framework): FrameworkModule {
  const found = BY_FRAMEWORK.get(framework);
  if (found === undefined) throw new Error(`no rule module for framework ${framework}`);
  return found;
}

/** The modules of `frameworks`, in registry order whatever the order of the list. */
export function modulesOf(frameworks: Iterable<Framework>): readonly FrameworkModule[] {
  const wanted = new Set(frameworks);
  return FRAMEWORK_MODULES.filter((m) => wanted.has(m.framework));
}

/**
 * Pairs of frameworks whose write-time rules cannot both hold: no region satisfies both primary-region
 * rules (GDPR: in the EEA; FERPA: in the US or Canada; PIPEDA: ca-central). A test checks this list
 * against the default catalog.
 */
export const INCOMPATIBLE_FRAMEWORKS: readonly (readonly [Framework, Framework, string])[] = Object.freeze([
  ["GDPR", "FERPA", "GDPR needs the primary region in the EEA and FERPA in the US or Canada"],
  ["GDPR", "PIPEDA", "GDPR needs the primary region in the EEA and PIPEDA needs ca-central"],
] as const);

/**
 * The write-time rules of the effective frameworks, run after the generic rules. Two incompatible
 * frameworks are reported once, on compliance_frameworks, naming both; every rule the policy breaks is
 * still listed, and a primary-region violation caused by the conflict points at that first violation
 * so the contradictory pair ("must be in the EEA", "must be in the US or Canada") reads as one problem.
 */
function frameworkRules(input: PolicyRuleInput, out: FieldViolation[]): void {
  const active = input.effective.complianceFrameworks;
  if (active.length === 0) return;
  const conflictOf = new Map<Framework, string>();
  const field = input.path("compliance_frameworks");
  for (const [a, b, why] of INCOMPATIBLE_FRAMEWORKS) {
    if (!active.includes(a) || !active.includes(b)) continue;
    const note = `${a} and ${b} are incompatible, see ${field}`;
    conflictOf.set(a, conflictOf.has(a) ? `${conflictOf.get(a)}; ${note}` : note);
    conflictOf.set(b, conflictOf.has(b) ? `${conflictOf.get(b)}; ${note}` : note);
    out.push({
      field,
      rule: "FRAMEWORKS_INCOMPATIBLE",
      message: `${field} combines ${a} and ${b}${frameworkOrigin(input, a, b)}, whose rules cannot both hold: ${why}, and no region is both; remove one of them`,
    });
  }
  const primaryField = input.path("primary_region");
  for (const module of modulesOf(active)) {
    const first = out.length;
    for (const rule of module.policyRules) rule(input, out);
    const conflict = conflictOf.get(module.framework);
    if (conflict === undefined) continue;
    for (let i = first; i < out.length; i++) {
      const v = out[i]!;
      if (v.field === primaryField) out[i] = { ...v, message: `${v.message} (${conflict})` };
    }
  }
}

/** " (GDPR from tenant policy pol-t)" when a learner inherits one of the pair; "" otherwise. */
function frameworkOrigin(input: PolicyRuleInput, a: Framework, b: Framework): string {
  const tenant = input.tenantPolicy;
  if (tenant === undefined) return "";
  const own = input.fields.complianceFrameworks;
  const inherited = [a, b].filter((f) => !own.includes(f) && tenant.complianceFrameworks.includes(f));
  return inherited.length === 0 ? "" : ` (${inherited.join(" and ")} from tenant policy ${tenant.policyId})`;
}

/** Appended to validatePolicy's rules. */
export const FRAMEWORK_POLICY_RULES: readonly PolicyRule[] = Object.freeze([frameworkRules]);

/**
 * The retention in force and the obligations that come with it: the smallest of the written retention
 * and every effective framework's cap; a cap that bites (or a missing written period under a capping
 * framework) is reported as that framework's obligation.
 */
export function retentionInForce(
  modules: readonly FrameworkModule[],
  written: number | undefined,
  settings: ComplianceSettings,
): { readonly days: number | undefined; readonly obligations: readonly Reason[] } {
  let days = written;
  const obligations: Reason[] = [];
  for (const module of modules) {
    if (module.retention === undefined) continue;
    const cap = module.retention.cap(settings);
    if (written === undefined || written > cap) obligations.push(module.retention.capped(written, cap));
    if (days === undefined || days > cap) days = cap;
  }
  return { days, obligations };
}

/**
 * The hook for emergency overrides: given the soft denies an override turned into an allow at `region`,
 * the extra reasons the decision must carry (GDPR: GDPR_ART49_DEROGATION), in registry order. Reasons of
 * a hard framework (COPPA) are never overridable and must not be passed.
 */
export function overrideReasons(overridden: readonly Reason[], region: string): Reason[] {
  const extra: Reason[] = [];
  for (const module of FRAMEWORK_MODULES) {
    if (module.overrideReasons === undefined) continue;
    const own = overridden.filter((r) => r.framework === module.framework);
    if (own.length > 0) extra.push(...module.overrideReasons(own, region));
  }
  return extra;
}

/** Break-glass may override the framework's denies (false for a hard framework: COPPA). */
export function overridableFramework(framework: Framework): boolean {
  return frameworkModule(framework).breakGlass;
}
