import { describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../../src/domain/default-region-catalog.js";
import {
  FRAMEWORK_MODULES,
  frameworkModule,
  INCOMPATIBLE_FRAMEWORKS,
  overridableFramework,
  overrideReasons,
} from "../../../src/domain/frameworks/framework-registry.js";
import type { Reason } from "../../../src/domain/decision.js";
import { FRAMEWORKS, type Framework } from "../../../src/domain/vocabulary.js";
import { validate } from "./framework-cases.js";

describe("framework registry", () => {
  it("has one module per framework, in vocabulary order", () => {
    expect(FRAMEWORK_MODULES.map((m) => m.framework)).toEqual([...FRAMEWORKS]);
    for (const f of FRAMEWORKS) expect(frameworkModule(f).framework).toBe(f);
  });

  it("break-glass: COPPA is hard, every other framework soft", () => {
    expect(Object.fromEntries(FRAMEWORKS.map((f) => [f, overridableFramework(f)]))).toEqual({
      GDPR: true, CCPA: true, FERPA: true, COPPA: false, PIPEDA: true, LGPD: true,
    });
  });

  it("which steps each framework takes part in", () => {
    const has = (key: "transfer" | "permitsProvider" | "permitsFailoverTo" | "retention") =>
      FRAMEWORK_MODULES.filter((m) => m[key] !== undefined).map((m) => m.framework);
    expect(has("transfer")).toEqual(["GDPR", "FERPA", "PIPEDA", "LGPD"]);
    expect(has("permitsProvider")).toEqual(["GDPR", "CCPA", "FERPA", "COPPA"]);
    expect(has("permitsFailoverTo")).toEqual(["PIPEDA"]);
    expect(has("retention")).toEqual(["COPPA"]);
  });

  it("the incompatible pairs are exactly those with no region satisfying both primary-region rules", () => {
    // Each framework's primary-region rule, read from its write-time violations on a one-framework policy.
    const primaryOk = (f: Framework, region: string) =>
      !validate({ policy: { primaryRegion: region, complianceFrameworks: [f], dataRetentionDays: 30, transferSafeguards: ["SCC"] } }).some(
        (v) => v.field === "policy.primary_region",
      );
    const computed: string[] = [];
    FRAMEWORKS.forEach((a, i) =>
      FRAMEWORKS.slice(i + 1).forEach((b) => {
        if (!DEFAULT_REGIONS.some((r) => primaryOk(a, r.id) && primaryOk(b, r.id))) computed.push(`${a}+${b}`);
      }),
    );
    expect(INCOMPATIBLE_FRAMEWORKS.map(([a, b]) => `${a}+${b}`)).toEqual(computed);
  });

  it("three frameworks, two conflicts: each pair once", () => {
    const v = validate({ policy: { primaryRegion: "ca-central", complianceFrameworks: ["GDPR", "FERPA", "PIPEDA"] } });
    expect(v.map((x) => `${x.field} ${x.rule}`)).toEqual([
      "policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE",
      "policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE",
      "policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA",
    ]);
    expect(v[2]!.message).toContain("GDPR and FERPA are incompatible, see policy.compliance_frameworks; GDPR and PIPEDA are incompatible");
  });

  it("the override hook adds nothing for frameworks without a derogation", () => {
    const soft = (framework: Framework): Reason => ({ code: "FERPA_OUTSIDE_US_CA", message: "", framework, effect: "DENY", overridable: true, region: "eu-west" });
    expect(overrideReasons([soft("FERPA"), soft("PIPEDA"), soft("LGPD")], "eu-west")).toEqual([]);
    expect(overrideReasons([soft("GDPR"), soft("FERPA")], "eu-west").map((r) => r.code)).toEqual(["GDPR_ART49_DEROGATION"]);
  });
});
