import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { mayLeaveIdlePolicy } from "../../src/audit/thread-priority.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { startTestApp } from "../support/start-test-app.js";
import { startServiceProcess } from "./service-process.js";
import { SCHED_IDLE, taskStats, threadPolicies } from "./thread-stat.js";

describe("audit configuration", () => {
  it("defaults: spool under DATA_DIR, a 100,000-record queue, batches of 500 every 100 ms", () => {
    expect(loadConfig({ DATA_DIR: "/var/lib/residency/" }).audit).toEqual({
      spoolDir: "/var/lib/residency/audit-spool",
      queueMax: 100_000,
      batchSize: 500,
      flushIntervalMs: 100,
      writerThread: true,
      writerNice: 10,
      writerSched: "auto",
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
    expect(loadConfig({ AUDIT_WRITER_SCHED: "AUTO" }).audit.writerSched).toBe("auto");
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

  it.runIf(process.platform === "linux" && mayLeaveIdlePolicy(10) === undefined)(
    "an app started with the default (auto) runs its audit writer thread under SCHED_IDLE where it may raise it again",
    async () => {
      expect(await threadPolicies()).not.toContain(SCHED_IDLE);
      let underIdle!: () => void;
      const said = new Promise<void>((resolve) => (underIdle = resolve));
      const logger = pino({ level: "info" }, { write: (line: string) => /under SCHED_IDLE \(AUDIT_WRITER_SCHED=auto\)/.test(line) && underIdle() });
      const t = await startTestApp({}, undefined, { logger });
      try {
        await said; // once the writer's database connection is open
        expect((await threadPolicies()).filter((policy) => policy === SCHED_IDLE)).toHaveLength(1);
        // Not starved here: the stall counter is exposed, at zero.
        expect(await (await fetch(`${t.metricsUrl}/metrics`)).text()).toMatch(/^residency_audit_writer_stalls_total 0$/m);
      } finally {
        await t.cleanup();
      }
    },
  );

  it.runIf(process.platform === "linux" && process.getuid?.() === 0 && existsSync("/usr/bin/setpriv"))(
    "where the process may not raise a thread again (no CAP_SYS_NICE), auto keeps the writer at AUDIT_WRITER_NICE and says why",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "residency-auto-sched-"));
      const service = await startServiceProcess({ DATA_DIR: dataDir, AUDIT_WRITER_NICE: "12" }, ["setpriv", "--bounding-set", "-sys_nice"]);
      try {
        // Said once the writer's database connection is open, when it would otherwise go under SCHED_IDLE.
        expect(await service.logged(/not under SCHED_IDLE while it keeps up \(AUDIT_WRITER_SCHED=auto\)/)).toMatchObject({
          level: "INFO",
          reason: expect.stringContaining("no CAP_SYS_NICE"),
        });
        const stats = await taskStats(service.child.pid!);
        expect(stats.map((s) => s.policy)).not.toContain(SCHED_IDLE);
        expect(stats.filter((s) => s.nice === 12)).toHaveLength(1);
      } finally {
        expect(await service.terminate()).toBe(0);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
