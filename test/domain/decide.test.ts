import { describe, it, expect } from "vitest";
import { decide } from "../../src/domain/decide.js";
import type { DecisionRequest } from "../../src/domain/decision.js";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import { FailedPreconditionError, InvalidArgumentError } from "../../src/domain/errors.js";
import type { SnapshotView } from "../../src/domain/snapshot-view.js";
import type { Framework, ReasonCode } from "../../src/domain/vocabulary.js";
import { fakeSnapshotView, stored } from "./fake-snapshot-view.js";

const NOW = 1_750_000_000_000;

const POLICIES = [
  // Tenant policy: Ireland, may use Frankfurt, never Virginia.
  stored({
    tenantId: "acme-edu",
    primaryRegion: "eu-west",
    allowedRegions: ["eu-central"],
    prohibitedRegions: ["us-east"],
    complianceFrameworks: ["GDPR"],
  }),
  // Learner that inherits everything but adds a prohibited region and is under 13.
  stored({ tenantId: "acme-edu", learnerId: "l-1", prohibitedRegions: ["apac-south"], ageBand: "UNDER_13", version: 3 }),
  // Learner with its own primary and allowed regions.
  stored({ tenantId: "acme-edu", learnerId: "l-2", primaryRegion: "eu-central", allowedRegions: ["ca-central"] }),
  // A tenant with no tenant policy, only one learner policy.
  stored({ tenantId: "solo", learnerId: "s-1", primaryRegion: "apac-east", allowedRegions: ["ca-central"] }),
  stored({ tenantId: "open-school", primaryRegion: "us-east", allowedRegions: ["us-west", "ca-central"] }),
];

const VIEW = fakeSnapshotView(POLICIES);
const VIEW_WITH_DEFAULT = fakeSnapshotView(POLICIES, { defaultRegion: "us-east" });

function request(tenantId: string, learnerId = "", requestedRegion = ""): DecisionRequest {
  return { tenantId, learnerId, operation: "READ", requestedRegion, dataClassification: undefined };
}

interface Case {
  readonly name: string;
  readonly view?: SnapshotView;
  readonly request: DecisionRequest;
  readonly allowed: boolean;
  readonly target: string;
  readonly primary: string;
  readonly crossRegion: boolean;
  readonly codes: readonly ReasonCode[];
  readonly policyId: string;
  readonly policyVersion?: number;
  readonly frameworks?: readonly Framework[];
  readonly alternatives: readonly string[];
}

const CASES: readonly Case[] = [
  {
    name: "tenant, no requested region: the primary",
    request: request("acme-edu"),
    allowed: true, target: "eu-west", primary: "eu-west", crossRegion: false,
    codes: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu", frameworks: ["GDPR"], alternatives: [],
  },
  {
    name: "tenant, requested primary",
    request: request("acme-edu", "", "eu-west"),
    allowed: true, target: "eu-west", primary: "eu-west", crossRegion: false,
    codes: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu", alternatives: [],
  },
  {
    name: "tenant, requested allowed region: cross-region",
    request: request("acme-edu", "", "eu-central"),
    allowed: true, target: "eu-central", primary: "eu-west", crossRegion: true,
    codes: ["ALLOWED_REGION", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu", alternatives: [],
  },
  {
    name: "tenant, requested prohibited region",
    request: request("acme-edu", "", "us-east"),
    allowed: false, target: "us-east", primary: "eu-west", crossRegion: true,
    codes: ["REGION_PROHIBITED"], policyId: "pol-acme-edu", alternatives: ["eu-west", "eu-central"],
  },
  {
    name: "tenant, requested region neither primary nor allowed",
    request: request("acme-edu", "", "apac-east"),
    allowed: false, target: "apac-east", primary: "eu-west", crossRegion: true,
    codes: ["REGION_NOT_ALLOWED"], policyId: "pol-acme-edu", alternatives: ["eu-west", "eu-central"],
  },
  {
    name: "learner inherits the tenant's primary; its own policy id and version; COPPA for UNDER_13",
    request: request("acme-edu", "l-1"),
    allowed: true, target: "eu-west", primary: "eu-west", crossRegion: false,
    codes: ["PRIMARY_REGION", "COPPA_ADDED_FOR_AGE", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu-l-1", policyVersion: 3, frameworks: ["GDPR", "COPPA"],
    alternatives: [],
  },
  {
    name: "learner inherits the tenant's allowed regions",
    request: request("acme-edu", "l-1", "eu-central"),
    allowed: true, target: "eu-central", primary: "eu-west", crossRegion: true,
    codes: ["ALLOWED_REGION", "COPPA_ADDED_FOR_AGE", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu-l-1", alternatives: [],
  },
  {
    name: "prohibited union: the learner's own prohibited region",
    request: request("acme-edu", "l-1", "apac-south"),
    allowed: false, target: "apac-south", primary: "eu-west", crossRegion: true,
    codes: ["REGION_PROHIBITED"], policyId: "pol-acme-edu-l-1", alternatives: ["eu-west", "eu-central"],
  },
  {
    name: "prohibited union: the tenant's prohibited region applies to the learner",
    request: request("acme-edu", "l-1", "us-east"),
    allowed: false, target: "us-east", primary: "eu-west", crossRegion: true,
    codes: ["REGION_PROHIBITED"], policyId: "pol-acme-edu-l-1", alternatives: ["eu-west", "eu-central"],
  },
  {
    name: "learner with its own primary and allowed regions",
    request: request("acme-edu", "l-2"),
    allowed: true, target: "eu-central", primary: "eu-central", crossRegion: false,
    codes: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu-l-2", alternatives: [],
  },
  {
    name: "learner's own allowed list replaces the tenant's: the tenant's primary is not allowed",
    request: request("acme-edu", "l-2", "eu-west"),
    allowed: false, target: "eu-west", primary: "eu-central", crossRegion: true,
    codes: ["REGION_NOT_ALLOWED"], policyId: "pol-acme-edu-l-2", alternatives: ["eu-central", "ca-central"],
  },
  {
    name: "learner without a policy of its own gets the tenant's",
    request: request("acme-edu", "l-9", "eu-central"),
    allowed: true, target: "eu-central", primary: "eu-west", crossRegion: true,
    codes: ["ALLOWED_REGION", "GDPR_TRANSFER_WITHIN_EEA"], policyId: "pol-acme-edu", alternatives: [],
  },
  {
    name: "learner-only policy (no tenant policy)",
    request: request("solo", "s-1", "ca-central"),
    allowed: true, target: "ca-central", primary: "apac-east", crossRegion: true,
    codes: ["ALLOWED_REGION"], policyId: "pol-solo-s-1", alternatives: [],
  },
  {
    name: "learner-only policy does not cover tenant-level data",
    request: request("solo"),
    allowed: false, target: "", primary: "", crossRegion: false,
    codes: ["NO_POLICY"], policyId: "", frameworks: [], alternatives: [],
  },
  {
    name: "learner-only policy does not cover another learner",
    request: request("solo", "s-2", "apac-east"),
    allowed: false, target: "", primary: "", crossRegion: false,
    codes: ["NO_POLICY"], policyId: "", alternatives: [],
  },
  {
    name: "unknown tenant, no default region: fail closed",
    request: request("nobody", "", "us-east"),
    allowed: false, target: "", primary: "", crossRegion: false,
    codes: ["NO_POLICY"], policyId: "", alternatives: [],
  },
  {
    name: "unknown tenant with a default region",
    view: VIEW_WITH_DEFAULT,
    request: request("nobody"),
    allowed: true, target: "us-east", primary: "us-east", crossRegion: false,
    codes: ["DEFAULT_REGION", "PRIMARY_REGION"], policyId: "", policyVersion: 0, frameworks: [], alternatives: [],
  },
  {
    name: "unknown tenant with a default region, another region requested",
    view: VIEW_WITH_DEFAULT,
    request: request("nobody", "l-1", "eu-west"),
    allowed: false, target: "eu-west", primary: "us-east", crossRegion: true,
    codes: ["DEFAULT_REGION", "REGION_NOT_ALLOWED"], policyId: "", alternatives: ["us-east"],
  },
  {
    name: "the default region does not apply to a tenant that has a policy",
    view: VIEW_WITH_DEFAULT,
    request: request("open-school", "", "ca-central"),
    allowed: true, target: "ca-central", primary: "us-east", crossRegion: true,
    codes: ["ALLOWED_REGION"], policyId: "pol-open-school", alternatives: [],
  },
  {
    name: "alternatives in catalog order, not policy order",
    request: request("open-school", "", "eu-west"),
    allowed: false, target: "eu-west", primary: "us-east", crossRegion: true,
    codes: ["REGION_NOT_ALLOWED"], policyId: "pol-open-school", alternatives: ["us-east", "us-west", "ca-central"],
  },
];

describe("decide", () => {
  it.each(CASES)("$name", (c) => {
    const view = c.view ?? VIEW;
    const decision = decide(view, c.request, NOW);
    expect(decision.allowed).toBe(c.allowed);
    expect(decision.targetRegion).toBe(c.target);
    expect(decision.primaryRegion).toBe(c.primary);
    expect(decision.crossRegion).toBe(c.crossRegion);
    expect(decision.reasons.map((r) => r.code)).toEqual(c.codes);
    expect(decision.policyId).toBe(c.policyId);
    if (c.policyVersion !== undefined) expect(decision.policyVersion).toBe(c.policyVersion);
    if (c.frameworks !== undefined) expect(decision.effectiveFrameworks).toEqual(c.frameworks);
    expect(decision.alternativeRegions).toEqual(c.alternatives);
    expect(decision.emergencyOverrideId).toBe("");

    if (c.allowed) {
      const region = view.region(c.target)!;
      expect(decision.routing).toEqual({
        region: c.target,
        storageBucket: region.storageBucket,
        storageEndpoint: region.storageEndpoint,
        searchEndpoint: region.searchEndpoint,
        inferenceProvider: "",
        inferenceEndpoint: "",
      });
      expect(decision.reasons.at(-1)!.effect).toBe("PASS");
    } else {
      expect(decision.routing).toBeUndefined();
      expect(decision.reasons.at(-1)!.effect).toBe("DENY");
    }
  });

  it("alternatives are exactly the regions where the same request is allowed", () => {
    for (const c of CASES) {
      const view = c.view ?? VIEW;
      const decision = decide(view, c.request, NOW);
      if (decision.allowed || decision.reasons.some((r) => r.code === "NO_POLICY")) continue;
      const allowedElsewhere = view.regions
        .map((r) => r.id)
        .filter((id) => {
          const elsewhere = decide(view, { ...c.request, requestedRegion: id }, NOW);
          return elsewhere.allowed && elsewhere.targetRegion === id;
        });
      expect(decision.alternativeRegions, c.name).toEqual(allowedElsewhere);
    }
  });

  it("pinning denies are soft, with the region and a message that names it", () => {
    const prohibited = decide(VIEW, request("acme-edu", "", "us-east"), NOW).reasons[0]!;
    expect(prohibited).toEqual({
      code: "REGION_PROHIBITED",
      message: 'region "us-east" is prohibited by policy pol-acme-edu for tenant acme-edu',
      framework: undefined,
      effect: "DENY",
      overridable: true,
      region: "us-east",
    });
    const notAllowed = decide(VIEW, request("acme-edu", "l-2", "eu-west"), NOW).reasons[0]!;
    expect(notAllowed.overridable).toBe(true);
    expect(notAllowed.message).toContain('"eu-west"');
    expect(notAllowed.message).toContain('"eu-central"');
    expect(notAllowed.message).toContain("learner l-2 of tenant acme-edu");
  });

  it("pass reasons are not overridable and name the region and policy", () => {
    const [reason] = decide(VIEW, request("acme-edu", "", "eu-central"), NOW).reasons;
    expect(reason).toMatchObject({ code: "ALLOWED_REGION", effect: "PASS", overridable: false, region: "eu-central" });
    expect(reason!.message).toBe('region "eu-central" is an allowed region of policy pol-acme-edu for tenant acme-edu');
  });

  it("the default-region reason is INFO and names the region", () => {
    const [info] = decide(VIEW_WITH_DEFAULT, request("nobody"), NOW).reasons;
    expect(info).toMatchObject({ code: "DEFAULT_REGION", effect: "INFO", overridable: false, region: "us-east" });
    expect(info!.message).toContain("nobody");
    expect(info!.message).toContain('"us-east"');
  });

  it("the no-policy deny names the tenant and is not overridable", () => {
    const [deny] = decide(VIEW, request("nobody", "k-1"), NOW).reasons;
    expect(deny).toMatchObject({ code: "NO_POLICY", effect: "DENY", overridable: false });
    expect(deny!.message).toContain("nobody");
    expect(deny!.message).toContain("k-1");
  });

  it("an unknown requested region is an InvalidArgumentError on requested_region, policy or not", () => {
    for (const r of [request("acme-edu", "", "mars-1"), request("nobody", "", "mars-1")]) {
      let thrown: unknown;
      try {
        decide(VIEW, r, NOW);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      const [violation] = (thrown as InvalidArgumentError).violations;
      expect(violation).toMatchObject({ field: "requested_region", rule: "region_exists" });
      expect(violation!.message).toContain("mars-1");
      expect(violation!.message).toContain(DEFAULT_REGIONS.map((x) => x.id).join(", "));
    }
  });

  it("a primary region missing from the catalog is a FailedPreconditionError, not the caller's mistake", () => {
    const view = fakeSnapshotView(POLICIES, { regions: DEFAULT_REGIONS.filter((r) => r.id !== "eu-west") });
    expect(() => decide(view, request("acme-edu"), NOW)).toThrow(FailedPreconditionError);
    // A requested region that exists still decides normally.
    expect(decide(view, request("acme-edu", "", "eu-central"), NOW).allowed).toBe(true);
  });
});

describe("decide: a deny's alternatives", () => {
  it("are computed once per policy and request shape, and shared (frozen) between denies", () => {
    const first = decide(VIEW, request("acme-edu", "", "us-east"), NOW);
    const second = decide(VIEW, request("acme-edu", "", "us-west"), NOW);
    expect(first.alternativeRegions).toEqual(["eu-west", "eu-central"]);
    expect(second.alternativeRegions).toBe(first.alternativeRegions);
    expect(Object.isFrozen(first.alternativeRegions)).toBe(true);
    // Another shape (public data skips the transfer rules) has its own answer.
    const publicData = decide(VIEW, { ...request("acme-edu", "", "us-east"), dataClassification: "PUBLIC" }, NOW);
    expect(publicData.alternativeRegions).not.toBe(first.alternativeRegions);
  });

  it("follow a region status change even for the same policy object (the memo is per catalog)", () => {
    const policy = VIEW.effectivePolicy("acme-edu", "")!;
    expect(decide(VIEW, request("acme-edu", "", "us-east"), NOW).alternativeRegions).toEqual(["eu-west", "eu-central"]);
    const regions = VIEW.regions.map((r) => (r.id === "eu-central" ? { ...r, status: "DOWN" as const } : r));
    const after: SnapshotView = { ...VIEW, regions, region: (id) => regions.find((r) => r.id === id) };
    expect(after.effectivePolicy("acme-edu", "")).toBe(policy);
    expect(decide(after, request("acme-edu", "", "us-east"), NOW).alternativeRegions).toEqual(["eu-west"]);
    expect(decide(VIEW, request("acme-edu", "", "us-east"), NOW).alternativeRegions).toEqual(["eu-west", "eu-central"]);
  });
});
