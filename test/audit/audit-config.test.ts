import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { startTestApp } from "../support/start-test-app.js";
import { SCHED_IDLE, threadPolicies } from "./thread-stat.js";

describe("audit configuration", () => {
  it("defaults: spool under DATA_DIR, a 100,000-record queue, batches of 500 every 100 ms", () => {
    expect(loadConfig({ DATA_DIR: "/var/lib/residency/" }).audit).toEqual({
      spoolDir: "/var/lib/residency/audit-spool",
      queueMax: 100_000,
      batchSize: 500,
      flushIntervalMs: 100,
      writerThread: true,
      writerNice: 10,
      writerSched: "normal",
    });
    expect(loadConfig({}).audit.spoolDir).toBe("./data/audit-spool");
  });

  it("reads AUDIT_SPOOL_DIR, AUDIT_QUEUE_MAX, AUDIT_BATCH_SIZE, AUDIT_FLUSH_MS, AUDIT_WRITER_THREAD, AUDIT_WRITER_NICE and AUDIT_WRITER_SCHED", () => {
    const env = {
      AUDIT_SPOOL_DIR: "/spool", AUDIT_QUEUE_MAX: "5", AUDIT_BATCH_SIZE: "50", AUDIT_FLUSH_MS: "20", AUDIT_WRITER_THREAD: "false", AUDIT_WRITER_NICE: "0",
      AUDIT_WRITER_SCHED: "Idle",
    };
    expect(loadConfig(env).audit).toEqual({
      spoolDir: "/spool", queueMax: 5, batchSize: 50, flushIntervalMs: 20, writerThread: false, writerNice: 0, writerSched: "idle",
    });
    expect(loadConfig({ AUDIT_WRITER_SCHED: "normal" }).audit.writerSched).toBe("normal");
  });

  it("refuses a bad value, naming the variable", () => {
    for (const [name, value] of [["AUDIT_QUEUE_MAX", "0"], ["AUDIT_BATCH_SIZE", "many"], ["AUDIT_FLUSH_MS", "-1"], ["AUDIT_WRITER_THREAD", "maybe"], ["AUDIT_WRITER_NICE", "20"], ["AUDIT_WRITER_NICE", "-5"], ["AUDIT_WRITER_SCHED", "batch"]] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });

  it.runIf(process.platform === "linux")("an app started with AUDIT_WRITER_SCHED=idle runs its audit writer thread under SCHED_IDLE", async () => {
    expect(await threadPolicies()).not.toContain(SCHED_IDLE);
    const t = await startTestApp({ AUDIT_WRITER_SCHED: "idle" });
    try {
      expect((await threadPolicies()).filter((policy) => policy === SCHED_IDLE)).toHaveLength(1);
    } finally {
      await t.cleanup();
    }
  });
});
