import { describe, expect, it } from "vitest";
import { leaveIdlePermission } from "../../src/audit/thread-priority.js";
import { createWriterPriorityGovernor } from "../../src/audit/writer-priority-governor.js";

const governor = () => createWriterPriorityGovernor({ stallMs: 100, holdMs: 1_000, caughtUpDepth: 10, behindDepth: 1_000 });

describe("writer priority governor (AUDIT_WRITER_SCHED=auto)", () => {
  it("leaves a writer that keeps up under SCHED_IDLE, with up to behindDepth records waiting", () => {
    const g = governor();
    for (let t = 0, durable = 0; t <= 2_000; t += 50, durable += 500) {
      expect(g.observe(t, 999, durable)).toBeUndefined();
    }
    // An empty ring is no stall, however long nothing is written.
    for (let t = 2_000; t <= 4_000; t += 50) expect(g.observe(t, 0, 41_000)).toBeUndefined();
    expect(g.priority).toBe("idle");
  });

  it("raises a writer once records have waited stallMs with none made durable, and only once until applied", () => {
    const g = governor();
    expect(g.observe(0, 3, 7)).toBeUndefined();
    expect(g.observe(99, 3, 7)).toBeUndefined();
    expect(g.observe(100, 3, 7)).toEqual({ to: "normal", cause: "stalled", reason: "3 records waited 100 ms with none written" });
    expect(g.observe(150, 3, 7)).toBeUndefined(); // the raise is still being made
    expect(g.priority).toBe("idle");
    g.applied(160);
    expect(g.priority).toBe("normal");
  });

  it("raises a writer that writes but falls behind: behindDepth records waiting, however many it writes", () => {
    // What SCHED_IDLE gives on a busy host: a sliver of a core, a batch now and then, never a stall.
    const g = governor();
    let t = 0;
    for (let depth = 100, durable = 0; depth < 1_000; depth += 100, durable += 20, t += 50) {
      expect(g.observe(t, depth, durable)).toBeUndefined();
    }
    expect(g.observe(t, 1_000, 200)).toEqual({ to: "normal", cause: "stalled", reason: "1000 records waiting: falling behind" });
    g.applied(t);
    expect(g.priority).toBe("normal");
    // Raised, it is lowered as any raised writer is: held, then caught up.
    expect(g.observe(t + 1_000, 10, 1_190)?.to).toBe("idle");
  });

  it("measures a stall from the last record made durable, not from the first record seen", () => {
    const g = governor();
    expect(g.observe(0, 3, 7)).toBeUndefined();
    expect(g.observe(90, 4, 8)).toBeUndefined(); // one written: progress
    expect(g.observe(180, 4, 8)).toBeUndefined();
    expect(g.observe(190, 4, 8)?.cause).toBe("stalled");
  });

  it("lowers a raised writer after holdMs once it has caught up, not before", () => {
    const g = governor();
    g.observe(0, 50, 0);
    expect(g.observe(100, 50, 0)?.to).toBe("normal");
    g.applied(100);
    expect(g.observe(600, 0, 50)).toBeUndefined(); // caught up, but raised only 500 ms ago
    expect(g.observe(1_100, 11, 61)).toBeUndefined(); // held long enough, not caught up
    expect(g.observe(1_150, 10, 62)).toEqual({ to: "idle", cause: "caught-up", reason: "10 records waiting after 1050 ms raised" });
    g.applied(1_150);
    expect(g.priority).toBe("idle");
    // Lowered, it gets a whole stall time again before the next raise.
    expect(g.observe(1_200, 10, 62)).toBeUndefined();
    expect(g.observe(1_250, 10, 62)?.to).toBe("normal");
  });

  it("holds a writer that starves again soon after it was lowered twice as long each time, up to 32 × holdMs", () => {
    const g = governor();
    let t = 0;
    /** A stall at `t`, then a lowering as soon as the hold allows: returns the hold that raise had. */
    const stallThenLower = (): number => {
      g.observe(t, 1, 0);
      t += 100;
      expect(g.observe(t, 1, 0)?.cause).toBe("stalled");
      g.applied(t);
      const hold = g.holdMs;
      expect(g.observe(t + hold - 1, 0, 1)).toBeUndefined();
      t += hold;
      expect(g.observe(t, 0, 1)?.to).toBe("idle");
      g.applied(t);
      return hold;
    };
    expect([1, 2, 3, 4, 5, 6, 7].map(stallThenLower)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000]);
    // Idle for longer than two holds before the next stall: the plain hold again.
    t += 64_001;
    expect(stallThenLower()).toBe(1_000);
    // A raise on demand is no sign of a busy host either.
    stallThenLower();
    expect(g.demand(t + 10, "a flush waits for it")?.cause).toBe("demand");
    g.applied(t + 10);
    expect(g.holdMs).toBe(1_000);
  });

  it("raises on demand (a flush, the shutdown), and a demand keeps a raised writer raised", () => {
    const g = governor();
    expect(g.demand(0, "a flush waits for it")).toEqual({ to: "normal", cause: "demand", reason: "a flush waits for it" });
    expect(g.demand(1, "again")).toBeUndefined(); // pending
    g.applied(10);
    expect(g.demand(900, "a flush waits for it")).toBeUndefined();
    expect(g.observe(1_100, 0, 0)).toBeUndefined(); // the demand at 900 restarted the hold
    expect(g.observe(1_900, 0, 0)?.to).toBe("idle");
  });

  it("keeps the priority it had when a change fails, and can propose again", () => {
    const g = governor();
    g.observe(0, 1, 0);
    expect(g.observe(100, 1, 0)?.to).toBe("normal");
    g.failed();
    expect(g.priority).toBe("idle");
    expect(g.observe(150, 1, 0)?.to).toBe("normal");
  });
});

describe("whether a thread may leave SCHED_IDLE (/proc/self/status and /proc/self/limits)", () => {
  const limits = (nice: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${nice}                    ${nice}\n`;
  const status = (capEff: string) => `Name:\tnode\nCapPrm:\t000001ffffffffff\nCapEff:\t${capEff}\n`;

  it("may with CAP_SYS_NICE (bit 23), whatever the limit", () => {
    expect(leaveIdlePermission(status("000001fffeffffff"), limits("0"), 10)).toBeUndefined();
    expect(leaveIdlePermission(status("0000000000800000"), limits("0"), 0)).toBeUndefined();
  });

  it("without it, only where RLIMIT_NICE allows the thread's nice value (20 − nice ≤ limit)", () => {
    const noCap = status("000001fffe7fffff");
    expect(leaveIdlePermission(noCap, limits("10"), 10)).toBeUndefined();
    expect(leaveIdlePermission(noCap, limits("unlimited"), 0)).toBeUndefined();
    expect(leaveIdlePermission(noCap, limits("9"), 10)).toMatch(/no CAP_SYS_NICE and its RLIMIT_NICE \(9\) does not allow nice 10/);
    expect(leaveIdlePermission(noCap, limits("0"), 19)).toMatch(/RLIMIT_NICE \(0\)/);
    expect(leaveIdlePermission("", "", 10)).toMatch(/RLIMIT_NICE \(unknown\)/);
  });
});
