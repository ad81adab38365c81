import { expect, it } from "vitest";
import { decide } from "../../../src/domain/decide.js";
import type { Decision, DecisionRequest } from "../../../src/domain/decision.js";
import { DEFAULT_REGIONS } from "../../../src/domain/default-region-catalog.js";
import type { FieldViolation } from "../../../src/domain/errors.js";
import { frameworkModule } from "../../../src/domain/frameworks/framework-registry.js";
import type { PolicyFields, StoredPolicy } from "../../../src/domain/policy.js";
import { validatePolicy } from "../../../src/domain/policy-validation.js";
import type { SnapshotView } from "../../../src/domain/snapshot-view.js";
import { FRAMEWORKS, type Framework, type ReasonCode, type ReasonEffect } from "../../../src/domain/vocabulary.js";
import { fakeSnapshotView, fields, stored, type FakeSnapshotOptions } from "../fake-snapshot-view.js";

// Shared by the per-framework tables: a decision case names the policies, the request and the exact
// reasons expected; a write case names the policy (and its tenant's) and the "field rule" violations.

export const NOW = 1_750_000_000_000;

export interface DecisionCase {
  readonly name: string;
  /** The tenant policy (tenant "t"), and optionally a learner policy ("l-1"). */
  readonly tenant?: Partial<PolicyFields>;
  readonly learner?: Partial<PolicyFields>;
  readonly view?: FakeSnapshotOptions;
  readonly request?: Partial<DecisionRequest>;
  readonly allowed: boolean;
  /** The decision's target region. */
  readonly target: string;
  /** "CODE" or "CODE:EFFECT", in order. */
  readonly reasons: readonly string[];
  readonly alternatives?: readonly string[];
  /** INFERENCE: the selected provider. */
  readonly provider?: string;
}

export function policiesOf(c: Pick<DecisionCase, "tenant" | "learner">): StoredPolicy[] {
  const out: StoredPolicy[] = [];
  if (c.tenant !== undefined) out.push(stored({ tenantId: "t", ...c.tenant }));
  if (c.learner !== undefined) out.push(stored({ tenantId: "t", learnerId: "l-1", ...c.learner }));
  return out;
}

export function requestOf(c: Pick<DecisionCase, "learner" | "request">): DecisionRequest {
  return {
    tenantId: "t",
    learnerId: c.learner === undefined ? "" : "l-1",
    operation: "READ",
    requestedRegion: "",
    dataClassification: undefined,
    ...c.request,
  };
}

/** Runs every case, with the invariants every decision keeps. */
export function decisionCases(cases: readonly DecisionCase[]): void {
  it.each(cases)("$name", (c) => {
    const view = fakeSnapshotView(policiesOf(c), c.view);
    const request = requestOf(c);
    const decision = decide(view, request, NOW);
    expect(decision.allowed, describeDecision(decision)).toBe(c.allowed);
    expect(decision.targetRegion).toBe(c.target);
    expect(decision.reasons.map(show), describeDecision(decision)).toEqual(c.reasons.map(normalise(decision)));
    if (c.alternatives !== undefined) expect(decision.alternativeRegions).toEqual(c.alternatives);
    if (c.provider !== undefined) expect(decision.routing?.inferenceProvider).toBe(c.provider);
    expectInvariants(view, request, decision);
  });
}

/** What every decision must satisfy, whatever the case. */
export function expectInvariants(view: SnapshotView, request: DecisionRequest, decision: Decision): void {
  const denies = decision.reasons.filter((r) => r.effect === "DENY");
  expect(denies.length > 0).toBe(!decision.allowed);
  for (const r of decision.reasons) {
    const prefix = r.code.split("_")[0] as Framework;
    const framework = (FRAMEWORKS as readonly string[]).includes(prefix) ? prefix : undefined;
    expect(r.framework, r.code).toBe(framework);
    if (framework !== undefined && r.effect === "DENY") {
      expect(r.overridable, r.code).toBe(frameworkModule(framework).breakGlass);
    }
    if (r.effect !== "DENY") expect(r.overridable, r.code).toBe(false);
    expect(r.message.length).toBeGreaterThan(0);
  }
  if (decision.allowed) {
    expect(decision.routing?.region).toBe(decision.targetRegion);
    expect(decision.crossRegion).toBe(decision.targetRegion !== decision.primaryRegion);
    expect(decision.alternativeRegions).toEqual([]);
    if (request.operation === "INFERENCE") expect(decision.routing?.inferenceProvider).not.toBe("");
    else expect(decision.routing?.inferenceProvider).toBe("");
  } else if (!decision.reasons.some((r) => r.code === "NO_POLICY")) {
    // The counterfactual: exactly the regions where the same request is allowed, and judged there.
    const elsewhere = view.regions
      .map((r) => r.id)
      .filter((id) => {
        const d = decide(view, { ...request, requestedRegion: id }, NOW);
        return d.allowed && d.targetRegion === id;
      });
    expect(decision.alternativeRegions).toEqual(elsewhere);
  }
}

function show(r: { code: ReasonCode; effect: ReasonEffect }): string {
  return `${r.code}:${r.effect}`;
}

/** "CODE" in a case means "with whatever effect the decision gave it": only CODE:EFFECT pins the effect. */
function normalise(decision: Decision): (expected: string, i: number) => string {
  return (expected, i) => (expected.includes(":") ? expected : `${expected}:${decision.reasons[i]?.effect ?? "?"}`);
}

function describeDecision(d: Decision): string {
  return d.reasons.map((r) => `${r.code}: ${r.message}`).join("\n");
}

export interface WriteCase {
  readonly name: string;
  /** The policy being written (tenant "t"; a learner when learnerId is set). */
  readonly policy: Partial<PolicyFields>;
  /** For a learner policy: its tenant's stored policy. */
  readonly tenant?: Partial<PolicyFields>;
  /** "field rule", in order. */
  readonly expected: readonly string[];
}

export function validate(c: Pick<WriteCase, "policy" | "tenant">): FieldViolation[] {
  return validatePolicy(fields({ tenantId: "t", ...c.policy }), {
    regions: DEFAULT_REGIONS,
    tenantPolicy: c.tenant === undefined ? undefined : stored({ tenantId: "t", ...c.tenant }),
    fieldPrefix: "policy",
  });
}

export function writeCases(cases: readonly WriteCase[]): void {
  it.each(cases)("$name", (c) => {
    const violations = validate(c);
    expect(violations.map((v) => `${v.field} ${v.rule}`)).toEqual(c.expected);
    for (const v of violations) expect(v.message.startsWith(v.field), v.message).toBe(true);
  });
}
