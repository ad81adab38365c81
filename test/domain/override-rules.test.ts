import { describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import {
  PENDING_APPROVAL_WINDOW_MS,
  approval,
  dueToExpire,
  isOpen,
  revocation,
  validateOverrideRequest,
  type OverrideRequestFields,
} from "../../src/domain/override-rules.js";

const ids = DEFAULT_REGIONS.map((r) => r.id);
const context = { regionExists: (id: string) => ids.includes(id), regionIds: ids, maxHours: 72 };
const valid: OverrideRequestFields = {
  tenantId: "acme",
  reason: "critical system failure in the primary region",
  affectedLearners: ["s1", "s2"],
  sourceRegion: "us-east",
  targetRegion: "eu-west",
  durationHours: 24,
};
const rules = (over: Partial<OverrideRequestFields>, maxHours = 72) =>
  validateOverrideRequest({ ...valid, ...over }, { ...context, maxHours }).map((v) => [v.field, v.rule]);
const HOUR = 3_600_000;

describe("validateOverrideRequest", () => {
  it("accepts a well-formed request, with or without named learners", () => {
    expect(rules({})).toEqual([]);
    expect(rules({ affectedLearners: [] })).toEqual([]);
  });

  it.each([
    ["reason under 20 characters (trimmed)", { reason: "   nineteen chars!!   " }, [["reason", "min_length"]]],
    ["reason of exactly 20 characters", { reason: "x".repeat(20) }, []],
    ["a reason too long", { reason: "x".repeat(2001) }, [["reason", "max_length"]]],
    ["no tenant", { tenantId: "" }, [["tenant_id", "required"]]],
    ["a malformed learner id", { affectedLearners: ["ok", "no spaces"] }, [["affected_learners[1]", "charset"]]],
    ["an empty learner id", { affectedLearners: [""] }, [["affected_learners[0]", "required"]]],
    ["a learner listed twice", { affectedLearners: ["a", "a"] }, [["affected_learners[1]", "unique"]]],
    ["an unknown source region", { sourceRegion: "mars-1" }, [["source_region", "region_exists"]]],
    ["no target region", { targetRegion: "" }, [["target_region", "required"]]],
    ["the same source and target", { targetRegion: "us-east" }, [["target_region", "distinct_regions"]]],
    ["zero hours", { durationHours: 0 }, [["duration_hours", "range"]]],
    ["73 hours", { durationHours: 73 }, [["duration_hours", "range"]]],
    ["72 hours", { durationHours: 72 }, []],
  ])("%s", (_name, over, expected) => {
    expect(rules(over as Partial<OverrideRequestFields>)).toEqual(expected);
  });

  it("follows EMERGENCY_MAX_HOURS", () => {
    expect(rules({ durationHours: 13 }, 12)).toEqual([["duration_hours", "range"]]);
    expect(rules({ durationHours: 12 }, 12)).toEqual([]);
  });

  it("reports every broken rule at once", () => {
    expect(rules({ reason: "short", sourceRegion: "", targetRegion: "nowhere", durationHours: 100, affectedLearners: ["bad id"] })).toEqual([
      ["reason", "min_length"],
      ["affected_learners[0]", "charset"],
      ["source_region", "required"],
      ["target_region", "region_exists"],
      ["duration_hours", "range"],
    ]);
  });
});

describe("override life cycle", () => {
  const NOW = 1_000_000_000;
  it("approval makes it ACTIVE for its duration, expires_at exclusive", () => {
    expect(approval({ durationHours: 3 }, "bob", NOW)).toEqual({ status: "ACTIVE", approvedBy: "bob", approvedAt: NOW, expiresAt: NOW + 3 * HOUR });
    expect(revocation("bob", "done", NOW)).toEqual({ status: "REVOKED", revokedBy: "bob", revokedAt: NOW, revokeReason: "done" });
  });

  it("is due to expire when ACTIVE at or past expires_at, or PENDING for the whole approval window", () => {
    const active = { status: "ACTIVE" as const, expiresAt: NOW + 10, requestedAt: NOW - HOUR };
    expect(dueToExpire(active, NOW + 9)).toBe(false);
    expect(dueToExpire(active, NOW + 10)).toBe(true);
    const pending = { status: "PENDING" as const, expiresAt: undefined, requestedAt: NOW };
    expect(dueToExpire(pending, NOW + PENDING_APPROVAL_WINDOW_MS - 1)).toBe(false);
    expect(dueToExpire(pending, NOW + PENDING_APPROVAL_WINDOW_MS)).toBe(true);
    expect(dueToExpire({ status: "REVOKED", expiresAt: NOW, requestedAt: NOW }, NOW + 1)).toBe(false);
    expect(["PENDING", "ACTIVE", "EXPIRED", "REVOKED", "REJECTED"].map((s) => isOpen(s as never))).toEqual([true, true, false, false, false]);
  });
});
