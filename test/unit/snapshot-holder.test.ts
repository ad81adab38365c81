import { describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import { buildSnapshot, type Snapshot } from "../../src/snapshot/snapshot.js";
import { createSnapshotHolder } from "../../src/snapshot/snapshot-holder.js";

const quiet = { info: () => undefined, error: () => undefined };
const snapshotAt = (version: number): Snapshot =>
  buildSnapshot({ version, regions: DEFAULT_REGIONS, policies: [], defaultRegion: undefined, builtAt: 0 });

describe("snapshot holder", () => {
  it("keeps the last good snapshot when a reload fails", async () => {
    let fail = false;
    const holder = createSnapshotHolder({ logger: quiet, load: async () => { if (fail) throw new Error("db down"); return snapshotAt(3); } });
    await holder.refresh();
    fail = true;
    await expect(holder.refresh()).rejects.toThrow("db down");
    expect(holder.current().version).toBe(3);
    expect(holder.failedRefreshes).toBe(1);
  });

  it("loads once more when asked during a load, and never goes back to an older version", async () => {
    const versions = [5, 4];
    let loads = 0;
    const holder = createSnapshotHolder({ logger: quiet, load: async () => snapshotAt(versions[loads++] ?? 0) });
    const first = holder.refresh();
    const second = holder.refresh();
    await Promise.all([first, second]);
    expect(loads).toBe(2);
    expect(holder.current().version).toBe(5);
  });

  it("waits for a version and times out when it does not come", async () => {
    let version = 1;
    const holder = createSnapshotHolder({ logger: quiet, load: async () => snapshotAt(version) });
    await holder.refresh();
    const waiting = holder.waitForVersion(2, 5_000);
    version = 2;
    await holder.refresh();
    expect(await waiting).toBe(true);
    expect(await holder.waitForVersion(9, 10)).toBe(false);
  });

  it("throws before the first load", () => {
    const holder = createSnapshotHolder({ logger: quiet, load: async () => snapshotAt(1) });
    expect(holder.loaded).toBe(false);
    expect(() => holder.current()).toThrow(/not loaded/);
  });
});
