import { describe, expect, it } from "vitest";
import type { ChangeEvent } from "../../src/bus/change-bus.js";
import { createOutboxRelay } from "../../src/replication/outbox-relay.js";
import type { ChangeRecord } from "../../src/store/policy-store.js";

function fakes() {
  const outbox: ChangeRecord[] = [];
  const published: ChangeEvent[] = [];
  const bus = { connected: true, failing: false };
  const warnings: string[] = [];
  const store = {
    async unpublishedChanges(limit: number) {
      return outbox.slice(0, limit);
    },
    async markPublished(versions: readonly number[]) {
      for (const v of versions) {
        const at = outbox.findIndex((c) => c.version === v);
        if (at >= 0) outbox.splice(at, 1);
      }
    },
  };
  const relay = createOutboxRelay({
    store,
    bus: {
      get connected() {
        return bus.connected;
      },
      async publish(event) {
        if (bus.failing) throw new Error("redis down");
        published.push(event);
      },
    },
    logger: { info() {}, warn: (_o, msg) => void warnings.push(msg) },
    intervalMs: 60_000,
    batchSize: 2,
  });
  const commit = (version: number) => outbox.push({ version, kind: "policy", ids: [`p${version}`], committedAt: 0 });
  return { outbox, published, bus, relay, commit, warnings };
}

describe("outbox relay", () => {
  it("publishes a committed change right away and marks it", async () => {
    const f = fakes();
    f.commit(1);
    await f.relay.publishCommitted({ version: 1, kind: "policy", ids: ["p1"] });
    expect(f.published.map((e) => e.version)).toEqual([1]);
    // Marked a moment later, several at once (or at stop).
    await f.relay.stop();
    expect(f.outbox).toEqual([]);
  });

  it("leaves a change it could not publish to the relay, which publishes the backlog in order", async () => {
    const f = fakes();
    f.bus.failing = true;
    for (const v of [1, 2, 3, 4, 5]) {
      f.commit(v);
      await f.relay.publishCommitted({ version: v, kind: "policy", ids: [`p${v}`] });
    }
    expect(f.published).toEqual([]);
    expect(f.outbox).toHaveLength(5);
    expect(f.warnings[0]).toContain("outbox relay will publish it");
    f.bus.failing = false;
    await f.relay.drain("reconnect");
    expect(f.published.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]); // batches of 2, oldest first
    expect(f.outbox).toEqual([]);
  });

  it("does not publish again in a pass what it published and has not marked yet", async () => {
    const f = fakes();
    f.commit(1);
    await f.relay.publishCommitted({ version: 1, kind: "policy", ids: ["p1"] });
    await f.relay.drain("timer");
    expect(f.published.map((e) => e.version)).toEqual([1]);
    expect(f.outbox).toEqual([]);
    await f.relay.stop();
  });

  it("does nothing while the bus is disconnected, and shares one pass between concurrent drains", async () => {
    const f = fakes();
    f.commit(1);
    f.bus.connected = false;
    await f.relay.drain("timer");
    expect(f.published).toEqual([]);
    f.bus.connected = true;
    await Promise.all([f.relay.drain("a"), f.relay.drain("b")]);
    expect(f.published.map((e) => e.version)).toEqual([1]);
    await f.relay.stop();
  });
});
