import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("audit configuration", () => {
  it("defaults: spool under DATA_DIR, a 100,000-record queue, batches of 500 every 100 ms", () => {
    expect(loadConfig({ DATA_DIR: "/var/lib/residency/" }).audit).toEqual({
      spoolDir: "/var/lib/residency/audit-spool",
      queueMax: 100_000,
      batchSize: 500,
      flushIntervalMs: 100,
      writerThread: true,
      writerNice: 10,
    });
    expect(loadConfig({}).audit.spoolDir).toBe("./data/audit-spool");
  });

  it("reads AUDIT_SPOOL_DIR, AUDIT_QUEUE_MAX, AUDIT_BATCH_SIZE, AUDIT_FLUSH_MS, AUDIT_WRITER_THREAD and AUDIT_WRITER_NICE", () => {
    const env = {
      AUDIT_SPOOL_DIR: "/spool", AUDIT_QUEUE_MAX: "5", AUDIT_BATCH_SIZE: "50", AUDIT_FLUSH_MS: "20", AUDIT_WRITER_THREAD: "false", AUDIT_WRITER_NICE: "0",
    };
    expect(loadConfig(env).audit).toEqual({ spoolDir: "/spool", queueMax: 5, batchSize: 50, flushIntervalMs: 20, writerThread: false, writerNice: 0 });
  });

  it("refuses a bad value, naming the variable", () => {
    for (const [name, value] of [["AUDIT_QUEUE_MAX", "0"], ["AUDIT_BATCH_SIZE", "many"], ["AUDIT_FLUSH_MS", "-1"], ["AUDIT_WRITER_THREAD", "maybe"], ["AUDIT_WRITER_NICE", "20"], ["AUDIT_WRITER_NICE", "-5"]] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });
});
