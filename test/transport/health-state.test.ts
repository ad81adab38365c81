import { describe, expect, it } from "vitest";
import { createHealthState, type ServingStatus } from "../../src/transport/health-state.js";

describe("health state", () => {
  it("starts with the overall status SERVING and knows no other name", () => {
    const health = createHealthState();
    expect(health.get("")).toBe("SERVING");
    expect(health.get("residency.v1.ResidencyService")).toBeUndefined();
  });

  it("tells subscribers about changes only", () => {
    const health = createHealthState();
    const changes: [string, ServingStatus][] = [];
    const unsubscribe = health.subscribe((service, status) => changes.push([service, status]));
    health.set("a", "SERVING");
    health.set("a", "SERVING");
    health.set("", "NOT_SERVING");
    unsubscribe();
    health.set("a", "NOT_SERVING");
    expect(changes).toEqual([
      ["a", "SERVING"],
      ["", "NOT_SERVING"],
    ]);
  });

  it("sets every known name at once", () => {
    const health = createHealthState();
    health.set("a", "SERVING");
    health.setAll("NOT_SERVING");
    expect([...health.entries()]).toEqual([
      ["", "NOT_SERVING"],
      ["a", "NOT_SERVING"],
    ]);
  });
});
