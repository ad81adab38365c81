import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { contentsOf } from "../../src/audit/audit-content.js";
import type { AuditEntryContent } from "../../src/audit/audit-entry.js";
import { verifyAuditChain } from "../../src/audit/audit-chain-verifier.js";
import type { AuditLogMetrics } from "../../src/audit/audit-log.js";
import type { AuditLogger } from "../../src/audit/audit-logger.js";
import { decodeAuditRecord, encodeAuditRecord } from "../../src/audit/audit-record-codec.js";
import type { AdminAuditRecord, AuditRecord, DecisionAuditRecord } from "../../src/audit/audit-record.js";
import { mayLeaveIdlePolicy } from "../../src/audit/thread-priority.js";
import { createThreadedAuditLog, type ThreadedAuditLog } from "../../src/audit/threaded-audit-log.js";
import type { Reason } from "../../src/domain/decision.js";
import { createSqlitePolicyStore } from "../../src/store/sqlite/sqlite-policy-store.js";
import { T0 } from "./audit-fixtures.js";
import { SCHED_IDLE, threadNices, threadPolicies } from "./thread-stat.js";

const allowReasons: readonly Reason[] = Object.freeze([
  Object.freeze({ code: "ALLOWED_REGION", message: "us-west is allowed", framework: undefined, effect: "PASS", overridable: false, region: "us-west" }),
  Object.freeze({ code: "FERPA_WITHIN_US_CA", message: "FERPA ok", framework: "FERPA", effect: "PASS", overridable: false, region: "us-west" }),
] as Reason[]);
const denyReasons: readonly Reason[] = [
  { code: "REGION_NOT_ALLOWED", message: "not allowed", framework: undefined, effect: "DENY", overridable: true, region: "apac-south" },
  { code: "GDPR_TRANSFER_NO_BASIS", message: "no basis", framework: "GDPR", effect: "DENY", overridable: false, region: "apac-south" },
] as Reason[];

function decision(n: number, over: Partial<DecisionAuditRecord> = {}): DecisionAuditRecord {
  return {
    kind: "DECISION",
    time: T0 + n,
    decisionId: `dec-${n}`,
    snapshotVersion: 7,
    actor: "svc-1",
    requestId: `req-${n}`,
    tenantId: "acme",
    learnerId: "",
    operation: "READ",
    resourceType: "document",
    resourceId: `doc-${n}`,
    requestedRegion: "us-west",
    callerRegion: "",
    targetRegion: "us-west",
    primaryRegion: "us-east",
    allowed: true,
    reasons: allowReasons,
    policyId: "pol_1",
    policyVersion: 3,
    overrideId: "",
    ...over,
  };
}

const admin: AdminAuditRecord = {
  kind: "POLICY_UPDATED",
  time: T0,
  tenantId: "acme",
  learnerId: "l-1",
  actor: "admin@acme",
  requestId: "r-admin",
  subjectId: "pol_1",
  beforeJson: '{"a":1}',
  afterJson: '{"a":"line\\nbreak"}',
};

const contents = (record: AuditRecord): AuditEntryContent[] => {
  const out: AuditEntryContent[] = [];
  contentsOf(record, out);
  return out;
};

describe("audit record codec (the hop to the writer thread)", () => {
  it("gives back records whose chain contents are exactly those of the original", () => {
    const records: AuditRecord[] = [
      decision(1),
      decision(2, { allowed: false, reasons: denyReasons, targetRegion: "apac-south", requestedRegion: "apac-south" }),
      decision(3, { overrideId: "ovr_1", learnerId: "student-42", callerRegion: "eu-west" }),
      decision(4, { resourceId: "tab\there\nnewline \"quoted\" \\ back", tenantId: "ünïcödé-✓-𝄞" }),
      decision(5, { resourceId: "nul\u0000 and lone \ud800 surrogate", requestId: "" }),
      decision(6, { reasons: [] }),
      admin,
    ];
    for (const record of records) {
      expect(contents(decodeAuditRecord(encodeAuditRecord(record)))).toEqual(contents(record));
    }
  });

  it("sends ordinary decisions in the compact form, and what it cannot carry as JSON, both read back exactly", () => {
    const COMPACT = "\u0001";
    expect(encodeAuditRecord(decision(1)).startsWith(COMPACT)).toBe(true);
    // Control characters, quotes and astral characters keep their UTF-16 lengths through UTF-8: compact.
    const odd = decision(4, { resourceId: "tab\there\nnewline \"quoted\" \\ back", tenantId: "ünïcödé-✓-𝄞" });
    expect(encodeAuditRecord(odd).startsWith(COMPACT)).toBe(true);
    // A lone surrogate would become U+FFFD in the ring's UTF-8, a field longer than a length char can say would not fit.
    const loneSurrogate = decision(5, { resourceId: "lone \ud800 surrogate" });
    const long = decision(6, { resourceId: "r".repeat(0xd800) });
    const notFinite = decision(7, { time: Number.NaN });
    for (const record of [loneSurrogate, long, notFinite]) expect(encodeAuditRecord(record).startsWith("[")).toBe(true);
    for (const record of [odd, loneSurrogate, long]) {
      expect(contents(decodeAuditRecord(encodeAuditRecord(record)))).toEqual(contents(record));
    }
    // The part shared by a policy's decisions is encoded once, and a change to any of its fields is not missed.
    expect(Object.isFrozen(allowReasons)).toBe(true);
    const first = decision(8);
    const sameShape = decision(9);
    const newerSnapshot = decision(10, { snapshotVersion: 99 });
    const newerPolicy = decision(12, { policyVersion: 7 });
    const otherTarget = decision(11, { targetRegion: "ca-central", allowed: false, overrideId: "ovr_2" });
    for (const record of [first, sameShape, newerSnapshot, newerPolicy, otherTarget, first]) {
      expect(contents(decodeAuditRecord(encodeAuditRecord(record)))).toEqual(contents(record));
    }
  });

  it("reuses the encoding of a shared (frozen) reasons array, and encodes a fresh one each time", () => {
    expect(encodeAuditRecord(decision(1))).toBe(encodeAuditRecord(decision(1)));
    const fresh = [...denyReasons];
    const before = encodeAuditRecord(decision(2, { allowed: false, reasons: fresh }));
    (fresh as Reason[]).pop();
    expect(encodeAuditRecord(decision(2, { allowed: false, reasons: fresh }))).not.toBe(before);
  });

  it("refuses a line it did not write", () => {
    expect(() => decodeAuditRecord("[1,2,3]")).toThrow(/3 fields, expected 19/);
    expect(() => decodeAuditRecord("not json")).toThrow();
    const compact = encodeAuditRecord(decision(1));
    expect(() => decodeAuditRecord(compact.slice(0, 5))).toThrow(/fewer than its lengths need/);
    expect(() => decodeAuditRecord(compact.slice(0, 20))).toThrow(/ends inside field/);
    expect(() => decodeAuditRecord(`${compact.slice(0, -1)},1]`)).toThrow(/not an array of 8/);
  });
});

describe("threaded audit log (writer in a worker thread, SQLite)", () => {
  let dir: string;
  const logs: ThreadedAuditLog[] = [];
  const stores: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "residency-threaded-audit-"));
  });
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function setup(
    settings: { queueMax?: number; batchSize?: number; flushIntervalMs?: number } = {},
    threadNice = 0,
    threadSched: "normal" | "idle" | "auto" = "normal",
    priorityControl: { stallMs?: number; holdMs?: number } = {},
  ) {
    const store = createSqlitePolicyStore({ dataDir: dir });
    await store.open();
    stores.push(store);
    const counted = { written: 0, shed: 0, failures: 0, depth: -1, stalls: 0 };
    const metrics: AuditLogMetrics & { countAuditWriterStall(): void } = {
      setAuditQueueDepth: (depth) => (counted.depth = depth),
      countAuditWriteFailures: (n = 1) => (counted.failures += n),
      countAuditEntriesWritten: (n) => (counted.written += n),
      countAuditShed: () => counted.shed++,
      countAuditWriterStall: () => counted.stalls++,
    };
    const lines: { level: string; msg: string; obj: object }[] = [];
    const awaited: { readonly pattern: RegExp; readonly found: () => void }[] = [];
    const push = (level: string, obj: object, msg: string) => {
      lines.push({ level, msg, obj });
      for (const [i, waiter] of [...awaited.entries()].reverse()) {
        if (waiter.pattern.test(msg)) {
          awaited.splice(i, 1);
          waiter.found();
        }
      }
    };
    const logger: AuditLogger = {
      info: (obj, msg) => push("info", obj, msg),
      warn: (obj, msg) => push("warn", obj, msg),
      error: (obj, msg) => push("error", obj, msg),
    };
    /** Resolves once a log line whose message matches has been logged (already, or from now on). */
    const loggedLine = (pattern: RegExp) =>
      new Promise<void>((found) => (lines.some((line) => pattern.test(line.msg)) ? found() : awaited.push({ pattern, found })));
    const log = createThreadedAuditLog({
      target: { databaseUrl: undefined, dataDir: dir },
      store,
      settings: { spoolDir: join(dir, "audit-spool"), queueMax: 1000, batchSize: 100, flushIntervalMs: 60_000, ...settings },
      metrics,
      logger,
      threadNice,
      threadSched,
      priorityControl,
    });
    logs.push(log);
    await log.start();
    return { store, log, counted, lines, loggedLine };
  }


  it.runIf(process.platform === "linux")("runs the writer thread at the nice value it is given (AUDIT_WRITER_NICE), and only that thread", async () => {
    const before = await threadNices();
    expect(before).not.toContain(13);
    const { log } = await setup({}, 13);
    log.record(decision(1));
    await log.flush(); // the thread has started and set its priority by now
    const after = await threadNices();
    expect(after.filter((nice) => nice === 13)).toHaveLength(1);
    expect(after.filter((nice) => nice !== 13).every((nice) => nice === before[0])).toBe(true);
  });

  it.runIf(process.platform === "linux")("runs the writer thread under SCHED_IDLE when asked (AUDIT_WRITER_SCHED=idle), and only that thread", async () => {
    expect(await threadPolicies()).not.toContain(SCHED_IDLE);
    const { log, lines } = await setup({}, 13, "idle");
    log.record(decision(1));
    await log.flush(); // the thread set its policy before it said it was ready
    expect((await threadPolicies()).filter((policy) => policy === SCHED_IDLE)).toHaveLength(1);
    // Under SCHED_IDLE the nice value is not applied.
    expect(await threadNices()).not.toContain(13);
    expect(lines.filter((line) => line.msg.includes("SCHED_IDLE"))).toEqual([]);
  });

  it.runIf(process.platform === "linux")("falls back to AUDIT_WRITER_NICE, and says why, where chrt cannot set SCHED_IDLE", async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, "no-such-bin"); // the thread's environment is a copy of this one when it starts
    let started: Awaited<ReturnType<typeof setup>>;
    try {
      started = await setup({}, 13, "idle");
    } finally {
      process.env.PATH = path;
    }
    const { log, lines } = started;
    log.record(decision(1));
    await log.flush();
    expect(await threadPolicies()).not.toContain(SCHED_IDLE);
    expect((await threadNices()).filter((nice) => nice === 13)).toHaveLength(1);
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: expect.stringContaining("not under SCHED_IDLE") }));
  });

  describe.runIf(process.platform === "linux" && mayLeaveIdlePolicy(13) === undefined)("AUDIT_WRITER_SCHED=auto (this process may raise a thread again)", () => {
    const busy: ChildProcess[] = [];
    /** Every core busy, and every loop running: a loop that has not started yet would leave the writer a core. */
    const busyEveryCore = async () => {
      const looping: Promise<unknown>[] = [];
      for (let i = 0; i <= availableParallelism(); i++) {
        const child = spawn(process.execPath, ["-e", "process.stdout.write('.'); for (;;) {}"], { stdio: ["ignore", "pipe", "ignore"] });
        busy.push(child);
        looping.push(once(child.stdout!, "data"));
      }
      await Promise.all(looping);
    };
    afterEach(async () => {
      await Promise.all(busy.splice(0).map((child) => new Promise((exited) => (child.once("exit", exited), child.kill("SIGKILL")))));
    });

    it("runs the writer under SCHED_IDLE, raises it to its nice value while a flush waits, and lowers it once caught up", async () => {
      const { log, loggedLine, counted } = await setup({}, 13, "auto", { holdMs: 200 });
      // Once its database connection is open (see the next test).
      await loggedLine(/under SCHED_IDLE \(AUDIT_WRITER_SCHED=auto\)/);
      expect((await threadPolicies()).filter((policy) => policy === SCHED_IDLE)).toHaveLength(1);
      expect(log.writerPriority).toBe("idle");
      const raised = loggedLine(/raised to normal priority: it is waited for/);
      log.record(decision(1));
      await log.flush();
      await raised;
      expect(log.writerPriority).toBe("normal");
      expect(await threadPolicies()).not.toContain(SCHED_IDLE);
      // Back under the normal policy, at the nice value it was given.
      expect((await threadNices()).filter((nice) => nice === 13)).toHaveLength(1);
      await loggedLine(/back under SCHED_IDLE/);
      expect(log.writerPriority).toBe("idle");
      expect((await threadPolicies()).filter((policy) => policy === SCHED_IDLE)).toHaveLength(1);
      expect(counted.stalls).toBe(0);
      expect(counted.written).toBe(1);
    });

    it("raises a writer starved under SCHED_IDLE (every core busy), which then writes, and counts it", async () => {
      // Nice 0 once raised: it competes with the busy loops as their equal, and the test need not wait long.
      const { log, loggedLine, counted, lines } = await setup({ flushIntervalMs: 20 }, 0, "auto", { stallMs: 50, holdMs: 60_000 });
      // Its database connection is opened at the nice value first: that alone would be a stall on a busy host.
      await loggedLine(/under SCHED_IDLE \(AUDIT_WRITER_SCHED=auto\)/);
      await busyEveryCore();
      const starved = loggedLine(/starved under SCHED_IDLE/);
      // A SCHED_IDLE thread still gets a sliver of a busy core: enough for a few records between two looks of
      // the governor, not for a tenth of the ring's bound (100 here) or for all of these.
      for (let i = 0; i < 300; i++) log.record(decision(i));
      await starved;
      expect(counted.stalls).toBe(1);
      expect(lines.find((line) => /starved/.test(line.msg))).toMatchObject({
        level: "warn",
        obj: { nice: 0, reason: expect.stringMatching(/records waited \d+ ms with none written|records waiting: falling behind/) },
      });
      expect(log.writerPriority).toBe("normal");
      expect(await threadPolicies()).not.toContain(SCHED_IDLE);
      await log.flush();
      expect(counted.written).toBe(300);
    });

    it("raises a writer that writes but falls behind once a tenth of AUDIT_QUEUE_MAX waits, before any stall", async () => {
      // No stall within the test: only the depth can raise it (a tenth of the bound of 1,000, from the settings).
      const { log, loggedLine, lines } = await setup({ flushIntervalMs: 20 }, 0, "auto", { stallMs: 600_000, holdMs: 60_000 });
      await loggedLine(/under SCHED_IDLE \(AUDIT_WRITER_SCHED=auto\)/);
      await busyEveryCore();
      const starved = loggedLine(/starved under SCHED_IDLE/);
      for (let i = 0; i < 300; i++) log.record(decision(i));
      await starved;
      expect(lines.find((line) => /starved/.test(line.msg))).toMatchObject({ level: "warn", obj: { reason: expect.stringMatching(/^\d+ records waiting: falling behind$/) } });
      expect(log.writerPriority).toBe("normal");
      await log.flush();
    });
  });

  it("appends what the decision path recorded, in order, hash-chained, and reports it", async () => {
    const { store, log, counted } = await setup();
    for (let i = 0; i < 250; i++) expect(log.record(decision(i, i % 5 === 0 ? { overrideId: `ovr_${i}` } : {}))).toBe(true);
    log.record(admin);
    await log.flush();
    const entries = await store.readAuditEntries(1, 10_000, 10_000);
    const expected = [...Array.from({ length: 250 }, (_, i) => contents(decision(i, i % 5 === 0 ? { overrideId: `ovr_${i}` } : {}))).flat(), ...contents(admin)];
    expect(entries.map(({ seq: _seq, hash: _hash, prevHash: _prev, hashVersion: _v, ...content }) => content)).toEqual(expected);
    expect((await verifyAuditChain(store, 0, 0)).valid).toBe(true);
    expect(counted.written).toBe(expected.length);
    expect(log.depth).toBe(0);
    expect(counted.depth).toBe(0);
  });

  it("sheds when the records not yet durable reach AUDIT_QUEUE_MAX, and takes records again once they are written", async () => {
    // Batches of 100 and a one-minute timer: nothing is written until flush.
    const { log, counted } = await setup({ queueMax: 10 });
    for (let i = 0; i < 10; i++) expect(log.record(decision(i))).toBe(true);
    expect(log.depth).toBe(10);
    expect(log.record(decision(10))).toBe(false);
    expect(counted.shed).toBe(1);
    await log.flush();
    expect(log.depth).toBe(0);
    expect(log.record(decision(11))).toBe(true);
  });

  it("starts a new thread when the writer thread dies, which appends every record not yet durable: none is lost", async () => {
    const { store, log, lines } = await setup();
    for (let i = 0; i < 30; i++) log.record(decision(i));
    await log.flush();
    for (let i = 30; i < 60; i++) log.record(decision(i)); // handed over, not yet written (the timer is a minute)
    // Not awaitable from outside: let the old thread take them from the ring (it polls every 5 ms), so it dies holding them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await log.crashWriterThread();
    for (let i = 60; i < 70; i++) log.record(decision(i)); // while the new thread starts
    await log.flush();
    const entries = await store.readAuditEntries(1, 10_000, 10_000);
    expect(entries.map((e) => e.requestId)).toEqual(Array.from({ length: 70 }, (_, i) => `req-${i}`));
    expect((await verifyAuditChain(store, 0, 0)).valid).toBe(true);
    expect(lines.some((l) => l.level === "error" && l.msg.startsWith("audit writer thread exited"))).toBe(true);
  });

  it("spools when its own database connection fails, logging through this thread's logger", async () => {
    const { log, lines, counted } = await setup();
    // A second log whose thread points at a database it cannot open (its directory is a plain file).
    const blocked = join(dir, "not-a-directory");
    await writeFile(blocked, "");
    const noop = () => {};
    const spoolDir = join(dir, "spool-2");
    const broken = createThreadedAuditLog({
      target: { databaseUrl: undefined, dataDir: blocked },
      store: stores[0] as never,
      settings: { spoolDir, queueMax: 100, batchSize: 100, flushIntervalMs: 60_000 },
      metrics: { setAuditQueueDepth: noop, countAuditWriteFailures: () => counted.failures++, countAuditEntriesWritten: noop, countAuditShed: noop },
      logger: { info: noop, warn: (obj, msg) => lines.push({ level: "warn", msg, obj }), error: noop },
    });
    logs.push(broken);
    await broken.start();
    broken.record(decision(1));
    await broken.flush();
    expect(broken.depth).toBe(0); // durable: in the spool
    expect((await readdir(spoolDir)).filter((f) => f.endsWith(".jsonl"))).toHaveLength(1);
    expect(counted.failures).toBeGreaterThan(0);
    expect(lines.find((l) => l.level === "warn")?.msg).toMatch(/audit database write failed: spooling/);
    expect(lines.find((l) => l.level === "warn")?.obj).toMatchObject({ records: 1, err: { message: expect.any(String) } });
    expect(log.depth).toBe(0);
  });

  it("writes what was recorded before the writer thread started, and flushes on close", async () => {
    const store = createSqlitePolicyStore({ dataDir: dir });
    await store.open();
    stores.push(store);
    const noop = () => {};
    const log = createThreadedAuditLog({
      target: { databaseUrl: undefined, dataDir: dir },
      store,
      settings: { spoolDir: join(dir, "audit-spool"), queueMax: 100, batchSize: 100, flushIntervalMs: 60_000 },
      metrics: { setAuditQueueDepth: noop, countAuditWriteFailures: noop, countAuditEntriesWritten: noop, countAuditShed: noop },
      logger: { info: noop, warn: noop, error: noop },
    });
    log.record(decision(1)); // while there is no thread at all: the ring keeps it for the first one
    await log.start();
    log.record(decision(2));
    await log.close();
    expect((await store.readAuditEntries(1, 10, 10)).map((e) => e.requestId)).toEqual(["req-1", "req-2"]);
  });
});
