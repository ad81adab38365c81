import type { DescMethod } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import { frameworkName, isDeny, operationName, type DecisionInit } from "./decision-facts.js";
import { DeferredCounts } from "./deferred-counts.js";

/** Statuses an emergency override goes through (the override issue counts them). */
export type EmergencyOverrideStatus = "requested" | "approved" | "rejected" | "revoked" | "expired" | "used";

/**
 * The service's Prometheus metrics, in a registry of its own (no global state). Label values are bounded:
 * never tenant or learner ids; regions only from the catalog (anything else is "other"); every label child
 * the hot path uses is created once and cached.
 */
export interface ResidencyMetrics {
  readonly registry: Registry;
  /** A recorder for one RPC method's duration, by code; made once per method when the middleware wraps it. */
  rpcRecorder(method: DescMethod): (seconds: number, code: Code | 0) => void;
  /** Counts one decision: data access, cross-region access, compliance violations on deny. */
  countDecision(operation: number, decision: DecisionInit): void;
  /** Seconds between a change's commit and this replica's snapshot including it (bus propagation issue). */
  observePropagationLag(seconds: number): void;
  /** Records waiting in the audit queue (audit issue). */
  setAuditQueueDepth(depth: number): void;
  /** Audit batches that could not be written (audit issue). */
  countAuditWriteFailures(count?: number): void;
  /** Audit entries appended to the hash chain. */
  countAuditEntriesWritten(count: number): void;
  /** A decision shed with UNAVAILABLE because the audit queue was full. */
  countAuditShed(): void;
  /** The audit writer thread, starved under SCHED_IDLE, was raised to normal priority. */
  countAuditWriterStall(): void;
  /** An emergency override changed status (override issue). */
  countEmergencyOverride(status: EmergencyOverrideStatus): void;
}

export interface MetricsOptions {
  /** Region ids of the catalog: the only region label values besides "other" and "none". */
  readonly regionIds: readonly string[];
  readonly snapshots: SnapshotHolder;
  /** Epoch milliseconds, for the snapshot's age. */
  readonly clock: () => number;
  /** prom-client's default process metrics (CPU, memory, event loop, GC). @default true */
  readonly processMetrics?: boolean;
}

/** Decisions take microseconds; writes and store round trips milliseconds. */
const RPC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OPERATION_SLOTS = 8;
const CODE_SLOTS = 17;
const FRAMEWORK_SLOTS = 16;

type HistogramChild = ReturnType<Histogram["labels"]>;

export function createMetrics(options: MetricsOptions): ResidencyMetrics {
  const { snapshots, clock } = options;
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  // Region label values by index: the catalog, then "other" (not in the catalog), then "none" (no region).
  const regionLabels = [...options.regionIds, "other", "none"];
  const regionIndex = new Map(options.regionIds.map((id, i) => [id, i] as const));
  const OTHER = options.regionIds.length;
  const NONE = OTHER + 1;
  const regionOf = (id: string | undefined): number => (id ? (regionIndex.get(id) ?? OTHER) : NONE);

  new Gauge({
    name: "residency_policies_total",
    help: "Policies in the current snapshot.",
    registers,
    collect() {
      if (snapshots.loaded) this.set(snapshots.current().policyCount);
    },
  });
  new Gauge({
    name: "residency_snapshot_version",
    help: "Version (store change counter) of the snapshot decisions read.",
    registers,
    collect() {
      if (snapshots.loaded) this.set(snapshots.current().version);
    },
  });
  new Gauge({
    name: "residency_snapshot_age_seconds",
    help: "Seconds since the current snapshot was built.",
    registers,
    collect() {
      if (snapshots.loaded) this.set(Math.max(0, (clock() - snapshots.current().builtAt) / 1000));
    },
  });
  let reloadFailuresSeen = 0;
  new Counter({
    name: "residency_snapshot_reload_failures_total",
    help: "Snapshot reloads that failed (the last good snapshot stayed in force).",
    registers,
    collect() {
      const failed = snapshots.failedRefreshes;
      if (failed > reloadFailuresSeen) this.inc(failed - reloadFailuresSeen);
      reloadFailuresSeen = failed;
    },
  });

  // Decisions are counted per slot (a flat index of the label values) and reach the counters when scraped.
  const accessCounts = new DeferredCounts<"region" | "operation" | "decision">();
  const crossCounts = new DeferredCounts<"source" | "target" | "allowed">();
  const violationCounts = new DeferredCounts<"framework">();
  new Counter({
    name: "data_access_requests_total",
    help: "Access decisions by target region, operation and decision.",
    labelNames: ["region", "operation", "decision"] as const,
    registers,
    collect() {
      accessCounts.flushInto(this);
    },
  });
  new Counter({
    name: "cross_region_access_total",
    help: "Decisions whose target region is not the primary region, by source (primary) and target region.",
    labelNames: ["source", "target", "allowed"] as const,
    registers,
    collect() {
      crossCounts.flushInto(this);
    },
  });
  new Counter({
    name: "compliance_violations_total",
    help: 'Denied decisions by the framework of each denying rule ("none" for pinning rules).',
    labelNames: ["framework"] as const,
    registers,
    collect() {
      violationCounts.flushInto(this);
    },
  });
  const overrides = new Counter({
    name: "emergency_overrides_total",
    help: "Emergency override status changes.",
    labelNames: ["status"] as const,
    registers,
  });
  const rpcDuration = new Histogram({
    name: "residency_rpc_duration_seconds",
    help: "Handler time per RPC, by service, method and Connect code.",
    labelNames: ["service", "method", "code"] as const,
    buckets: RPC_BUCKETS,
    registers,
  });
  const propagationLag = new Histogram({
    name: "residency_propagation_lag_seconds",
    help: "Seconds from a change's commit to this replica deciding with it.",
    buckets: LAG_BUCKETS,
    registers,
  });
  const auditQueueDepth = new Gauge({
    name: "residency_audit_queue_depth",
    help: "Audit records waiting to be written.",
    registers,
  });
  const auditWriteFailures = new Counter({
    name: "residency_audit_write_failures_total",
    help: "Audit writes that failed.",
    registers,
  });
  const auditEntriesWritten = new Counter({
    name: "residency_audit_entries_written_total",
    help: "Audit entries this replica appended to the hash chain.",
    registers,
  });
  const auditShed = new Counter({
    name: "residency_audit_shed_decisions_total",
    help: "Decisions refused with UNAVAILABLE because the audit queue was full.",
    registers,
  });

  const auditWriterStalls = new Counter({
    name: "residency_audit_writer_stalls_total",
    help: "Times the audit writer thread, starved under SCHED_IDLE (AUDIT_WRITER_SCHED=auto), was raised to normal priority.",
    registers,
  });

  const regionCount = regionLabels.length;

  return {
    registry,
    rpcRecorder(method) {
      const service = method.parent.name;
      const children: (HistogramChild | undefined)[] = new Array(CODE_SLOTS);
      return (seconds, code) => {
        const child = (children[code] ??= rpcDuration.labels(service, method.name, code === 0 ? "ok" : codeToString(code)));
        child.observe(seconds);
      };
    },
    countDecision(operation, decision) {
      const op = operation >= 0 && operation < OPERATION_SLOTS ? operation : 0;
      const allowed = decision.allowed === true;
      const target = regionOf(decision.targetRegion);
      const accessSlot = (target * OPERATION_SLOTS + op) * 2 + (allowed ? 1 : 0);
      if (!accessCounts.has(accessSlot)) {
        accessCounts.define(accessSlot, { region: regionLabels[target]!, operation: operationName(op), decision: allowed ? "allow" : "deny" });
      }
      accessCounts.add(accessSlot);

      if (decision.crossRegion) {
        const source = regionOf(decision.primaryRegion);
        const crossSlot = (source * regionCount + target) * 2 + (allowed ? 1 : 0);
        if (!crossCounts.has(crossSlot)) {
          crossCounts.define(crossSlot, { source: regionLabels[source]!, target: regionLabels[target]!, allowed: String(allowed) });
        }
        crossCounts.add(crossSlot);
      }

      if (!allowed) {
        // Each framework once per decision, "none" (slot 0) for pinning rules.
        let seen = 0;
        for (const reason of decision.reasons ?? []) {
          if (!isDeny(reason)) continue;
          const slot = reason.framework !== undefined && reason.framework > 0 && reason.framework < FRAMEWORK_SLOTS ? reason.framework : 0;
          if (seen & (1 << slot)) continue;
          seen |= 1 << slot;
          if (!violationCounts.has(slot)) violationCounts.define(slot, { framework: frameworkName(slot) });
          violationCounts.add(slot);
        }
      }
    },
    observePropagationLag: (seconds) => propagationLag.observe(seconds),
    setAuditQueueDepth: (depth) => auditQueueDepth.set(depth),
    countAuditWriteFailures: (count = 1) => auditWriteFailures.inc(count),
    countAuditEntriesWritten: (count) => auditEntriesWritten.inc(count),
    countAuditShed: () => auditShed.inc(),
    countAuditWriterStall: () => auditWriterStalls.inc(),
    countEmergencyOverride: (status) => overrides.labels(status).inc(),
  };
}
