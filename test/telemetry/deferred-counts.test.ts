import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DeferredCounts } from "../../src/telemetry/deferred-counts.js";

type Labels = "region" | "decision";
const SLOTS: Record<number, { region: string; decision: string }> = {
  0: { region: "us-east", decision: "allow" },
  1: { region: "us-east", decision: "deny" },
  5: { region: "eu-west", decision: "allow" },
};

/** The same counter twice: incremented directly, and through DeferredCounts. */
function pair() {
  const direct = new Registry();
  const deferred = new Registry();
  const counts = new DeferredCounts<Labels>();
  const help = "Decisions.";
  const labelNames = ["region", "decision"] as const;
  const counter = new Counter({ name: "decisions_total", help, labelNames, registers: [direct] });
  new Counter({
    name: "decisions_total", help, labelNames, registers: [deferred],
    collect() {
      counts.flushInto(this);
    },
  });
  const count = (slot: number) => {
    counter.inc(SLOTS[slot]!);
    if (!counts.has(slot)) counts.define(slot, SLOTS[slot]!);
    counts.add(slot);
  };
  return { count, direct, deferred };
}

describe("deferred counts", () => {
  it("expose what direct increments expose, at every scrape", async () => {
    const { count, direct, deferred } = pair();
    expect(await deferred.metrics()).toBe(await direct.metrics());
    for (const slot of [5, 0, 5, 5]) count(slot);
    expect(await deferred.metrics()).toBe(await direct.metrics());
    expect(await deferred.metrics()).toContain('decisions_total{region="eu-west",decision="allow"} 3');
    for (const slot of [1, 0, 0]) count(slot);
    expect(await deferred.metrics()).toBe(await direct.metrics());
    expect(await deferred.getMetricsAsJSON()).toEqual(await direct.getMetricsAsJSON());
  });
});
