import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { contentsOf, text } from "../../src/audit/audit-content.js";
import type { AuditEntry, AuditEntryContent } from "../../src/audit/audit-entry.js";
import { canonicalEntryV1, chainEntries, entryHash, GENESIS_HASH } from "../../src/audit/audit-hash.js";
import { createAuditQueue } from "../../src/audit/audit-queue.js";
import type { AuditRecord, DecisionAuditRecord } from "../../src/audit/audit-record.js";
import { createAuditSpool } from "../../src/audit/audit-spool.js";
import { createAuditWriter } from "../../src/audit/audit-writer.js";
import { canonicalJson } from "../../src/audit/canonical-json.js";
import { violationsOf } from "../../src/audit/violations-of.js";
import type { Decision, Reason } from "../../src/domain/decision.js";
import type { AuditStore } from "../../src/store/audit-store.js";
import { decisionContent, T0 } from "./audit-fixtures.js";

const silent = pino({ level: "silent" });

describe("canonical serialization and hashing", () => {
  it("is version 1, fixed field order, and hashes to a known value (changing it breaks every stored chain)", () => {
    const c = decisionContent(1, { violations: [{ framework: "GDPR", reasonCode: "GDPR_TRANSFER_NO_BASIS" }], allowed: false });
    expect(canonicalEntryV1(1, GENESIS_HASH, c)).toBe(
      `["residency.audit.v1",1,"${GENESIS_HASH}","DECISION",1750000000001,"acme","","svc-1","req-1","","","","dec-1","READ","document","doc-1",` +
        `"us-west","us-west","us-east","us-east",false,["ALLOWED_REGION"],"pol_1",1,7,"",[["GDPR","GDPR_TRANSFER_NO_BASIS"]]]`,
    );
    expect(entryHash(1, 1, GENESIS_HASH, c)).toBe("b79c63aae8fab7636514fff2b773868fc2049b4e99b144e5d09105c08143df17");
    expect(entryHash(2, 1, GENESIS_HASH, c)).toBeUndefined();
    // Object key order in the content makes no difference.
    const reordered = Object.fromEntries(Object.entries(c).reverse()) as unknown as AuditEntryContent;
    expect(entryHash(1, 1, GENESIS_HASH, reordered)).toBe(entryHash(1, 1, GENESIS_HASH, c));
  });

  it("chains entries: consecutive positions, each linked to the one before", () => {
    const entries = chainEntries({ seq: 41, hash: "a".repeat(64) }, [decisionContent(1), decisionContent(2)]);
    expect(entries.map((e) => [e.seq, e.prevHash.slice(0, 4)])).toEqual([
      [42, "aaaa"],
      [43, entries[0]!.hash.slice(0, 4)],
    ]);
    expect(entries[1]!.hash).toBe(entryHash(1, 43, entries[0]!.hash, decisionContent(2)));
  });

  it("keeps text every database stores unchanged: NUL and lone surrogates become U+FFFD", () => {
    expect(text("plain ünïcödé 😀")).toBe("plain ünïcödé 😀");
    expect(text("a\u0000b")).toBe("a\ufffdb");
    expect(text("x\ud800y\udc00z")).toBe("x\ufffdy\ufffdz");
  });

  it("serializes objects canonically: sorted keys, undefined left out", () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [3, { z: 1, y: 2 }] } })).toBe('{"a":{"c":[3,{"y":2,"z":1}]},"b":1}');
  });
});

const reason = (code: Reason["code"], effect: Reason["effect"], framework?: Reason["framework"]): Reason => ({
  code, effect, framework, message: "", overridable: true, region: "",
});
const decision = (over: Partial<Decision>): Decision => ({
  allowed: false, targetRegion: "eu-west", primaryRegion: "us-east", crossRegion: true, reasons: [], routing: undefined,
  policyId: "pol_1", policyVersion: 3, effectiveFrameworks: [], emergencyOverrideId: "", alternativeRegions: [], ...over,
});

describe("violations and record flattening", () => {
  it("makes one violation per denying framework or cross-region pinning rule, none for other denies or allows", () => {
    expect(violationsOf(decision({ reasons: [reason("PRIMARY_REGION", "PASS"), reason("REGION_NOT_ALLOWED", "DENY")] }))).toEqual([
      { framework: "", reasonCode: "REGION_NOT_ALLOWED" },
    ]);
    expect(
      violationsOf(decision({ reasons: [reason("FERPA_PROVIDER_NOT_PERMITTED", "DENY", "FERPA"), reason("COPPA_PROVIDER_NOT_PERMITTED", "DENY", "COPPA"), reason("INFERENCE_NO_COMPLIANT_PROVIDER", "DENY")] })),
    ).toEqual([
      { framework: "FERPA", reasonCode: "FERPA_PROVIDER_NOT_PERMITTED" },
      { framework: "COPPA", reasonCode: "COPPA_PROVIDER_NOT_PERMITTED" },
    ]);
    expect(violationsOf(decision({ reasons: [reason("NO_POLICY", "DENY")] }))).toEqual([]);
    expect(violationsOf(decision({ reasons: [reason("REGION_UNAVAILABLE", "DENY")] }))).toEqual([]);
    // An override allowed it: the overridden denies stay in the reasons, but it is no violation.
    expect(violationsOf(decision({ allowed: true, reasons: [reason("REGION_PROHIBITED", "DENY")] }))).toEqual([]);
  });

  const record = (over: Partial<Decision> = {}): DecisionAuditRecord => {
    const d = decision({ reasons: [reason("REGION_NOT_ALLOWED", "DENY")], ...over });
    return {
      kind: "DECISION", time: T0, decisionId: "dec-1", snapshotVersion: 9, actor: "svc", requestId: "req",
      tenantId: "acme", learnerId: "kid", operation: "EXPORT", resourceType: "doc", resourceId: "d-1", requestedRegion: "eu-west",
      callerRegion: "us-west", targetRegion: d.targetRegion, primaryRegion: d.primaryRegion, allowed: d.allowed, reasons: d.reasons,
      policyId: d.policyId, policyVersion: d.policyVersion, overrideId: d.emergencyOverrideId,
    };
  };

  it("flattens a decision record into one entry content", () => {
    const out: AuditEntryContent[] = [];
    contentsOf(record(), out);
    expect(out).toEqual([
      expect.objectContaining({
        kind: "DECISION", occurredAt: T0, tenantId: "acme", learnerId: "kid", actor: "svc", requestId: "req", decisionId: "dec-1",
        operation: "EXPORT", resourceType: "doc", resourceId: "d-1", requestedRegion: "eu-west", targetRegion: "eu-west", callerRegion: "us-west",
        primaryRegion: "us-east", allowed: false, reasonCodes: ["REGION_NOT_ALLOWED"], policyId: "pol_1", policyVersion: 3, snapshotVersion: 9,
        overrideId: "", violations: [{ framework: "", reasonCode: "REGION_NOT_ALLOWED" }],
      }),
    ]);
  });

  it("adds an OVERRIDE_USED entry after a decision an emergency override allowed", () => {
    const out: AuditEntryContent[] = [];
    contentsOf(record({ allowed: true, emergencyOverrideId: "ovr-7" }), out);
    expect(out.map((c) => [c.kind, c.subjectId, c.overrideId, c.decisionId])).toEqual([
      ["DECISION", "", "ovr-7", "dec-1"],
      ["OVERRIDE_USED", "ovr-7", "ovr-7", "dec-1"],
    ]);
  });
});

describe("audit queue", () => {
  it("is a bounded FIFO that says when a batch is ready, counting held records against the bound", () => {
    let ready = 0;
    const queue = createAuditQueue(4, 2, () => ready++);
    const r = (n: number) => ({ kind: "POLICY_CREATED", time: n }) as unknown as AuditRecord;
    expect([1, 2, 3, 4, 5].map((n) => queue.offer(r(n)))).toEqual([true, true, true, true, false]);
    expect(ready).toBe(1);
    expect(queue.take(3).map((x) => x.time)).toEqual([1, 2, 3]);
    expect(queue.offer(r(6))).toBe(true);
    queue.held = 2;
    expect(queue.offer(r(7))).toBe(false);
    queue.held = 0;
    expect(queue.offer(r(7))).toBe(true);
    expect(queue.take(10).map((x) => x.time)).toEqual([4, 6, 7]); // wraps around the ring
    expect(queue.size).toBe(0);
  });
});

/** An in-memory AuditStore that can be made to fail. */
function fakeStore() {
  const entries: AuditEntry[] = [];
  const progress = new Map<string, number>();
  const state = { failing: false, calls: 0 };
  const store: Pick<AuditStore, "appendAudit"> = {
    async appendAudit(contents, spool) {
      state.calls++;
      await Promise.resolve();
      if (state.failing) throw new Error("database unavailable");
      let todo = contents;
      if (spool) {
        const done = progress.get(spool.segment) ?? 0;
        todo = contents.slice(Math.max(0, done - spool.fromLine));
        progress.set(spool.segment, Math.max(done, spool.fromLine + contents.length));
      }
      const head = entries.at(-1) ?? { seq: 0, hash: GENESIS_HASH };
      const added = chainEntries(head, todo);
      entries.push(...added);
      return added;
    },
  };
  return { store: store as AuditStore, entries, state };
}

describe("audit writer and spool", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "residency-spool-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const admin = (n: number): AuditRecord => ({
    kind: "POLICY_UPDATED", time: T0 + n, tenantId: "acme", learnerId: "", actor: "a", requestId: `r-${n}`, subjectId: "p", beforeJson: "", afterJson: "",
  });

  function setup(capacity = 1000, batchSize = 4) {
    const fake = fakeStore();
    const metrics = { depth: 0, failures: 0, written: 0 };
    const spool = createAuditSpool({ dir });
    let writer: ReturnType<typeof createAuditWriter> | undefined;
    const queue = createAuditQueue(capacity, batchSize, () => writer?.wake());
    writer = createAuditWriter({
      store: fake.store, queue, spool, batchSize, flushIntervalMs: 10_000, retryIntervalMs: 0, logger: silent,
      metrics: {
        setAuditQueueDepth: (d) => (metrics.depth = d),
        countAuditWriteFailures: () => metrics.failures++,
        countAuditEntriesWritten: (n) => (metrics.written += n),
      },
    });
    return { ...fake, metrics, spool, queue, writer };
  }
  const ids = (entries: AuditEntry[]) => entries.map((e) => e.requestId);

  it("writes in batches of at most batchSize, in order", async () => {
    const w = setup();
    await w.spool.open();
    for (let i = 0; i < 10; i++) w.queue.offer(admin(i));
    await w.writer.flush();
    expect(ids(w.entries)).toEqual(Array.from({ length: 10 }, (_, i) => `r-${i}`));
    expect(w.state.calls).toBe(3);
    expect(w.metrics).toMatchObject({ depth: 0, written: 10, failures: 0 });
  });

  it("spools while the database fails, keeps spooling until the spool is replayed, and keeps the order", async () => {
    const w = setup();
    await w.spool.open();
    w.queue.offer(admin(0));
    await w.writer.flush();
    w.state.failing = true;
    for (let i = 1; i < 6; i++) w.queue.offer(admin(i));
    await w.writer.flush();
    expect(ids(w.entries)).toEqual(["r-0"]);
    expect(await readdir(dir)).toHaveLength(1);
    expect(w.metrics.failures).toBeGreaterThan(0);
    w.state.failing = false;
    for (let i = 6; i < 9; i++) w.queue.offer(admin(i));
    await w.writer.flush();
    expect(ids(w.entries)).toEqual(Array.from({ length: 9 }, (_, i) => `r-${i}`));
    expect(await readdir(dir)).toEqual([]);
  });

  it("holds records in memory when the spool fails too, so the queue sheds instead of dropping", async () => {
    const w = setup(6, 4);
    await w.spool.open();
    w.state.failing = true;
    // The spool cannot create its file: its directory is gone and a plain file took its name.
    await rm(dir, { recursive: true });
    await writeFile(dir, "");
    for (let i = 0; i < 6; i++) expect(w.queue.offer(admin(i))).toBe(true);
    await w.writer.flush();
    expect([w.queue.held, w.queue.size]).toEqual([4, 2]); // one batch taken and held, the rest still queued
    expect(w.queue.offer(admin(6))).toBe(false);
    await rm(dir);
    await mkdir(dir);
    w.state.failing = false;
    await w.writer.flush(); // the spooled batch is replayed on the next cycle
    await w.writer.flush();
    expect(ids(w.entries)).toEqual(Array.from({ length: 6 }, (_, i) => `r-${i}`));
    expect(w.queue.offer(admin(6))).toBe(true);
  });

  it("replays segments an earlier process left, skipping a line cut short by a crash", async () => {
    const line = (n: number) => `${JSON.stringify(decisionContent(n))}\n`;
    await writeFile(join(dir, "000000000000001-000000-999999999-abcd.jsonl"), line(1) + line(2) + '{"kind":"DECI');
    await writeFile(join(dir, "000000000000002-000000-999999999-abcd.jsonl"), line(3) + "garbage\n" + line(4));
    await writeFile(join(dir, `000000000000003-000000-${process.pid}-abcd.jsonl`), line(5));
    const w = setup();
    await w.spool.open();
    expect(w.spool.backlog).toBe(true);
    await w.writer.flush();
    expect(ids(w.entries)).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5"]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves a live process's segment alone", async () => {
    await writeFile(join(dir, `000000000000001-000000-${process.ppid}-abcd.jsonl`), `${JSON.stringify(decisionContent(1))}\n`);
    const w = setup();
    await w.spool.open();
    expect(w.spool.backlog).toBe(false);
  });

  it("fsyncs whole lines per batch and starts a new segment past the size bound", async () => {
    const spool = createAuditSpool({ dir, maxSegmentBytes: 1 });
    await spool.open();
    await spool.append([decisionContent(1), decisionContent(2)]);
    await spool.append([decisionContent(3)]);
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect((await readFile(join(dir, files[0]!), "utf8")).split("\n")).toHaveLength(3);
    const first = await spool.next(10);
    expect(first?.contents.map((c) => c.requestId)).toEqual(["req-1", "req-2"]);
    spool.replayed(first!);
    const second = await spool.next(10);
    expect(second?.contents.map((c) => c.requestId)).toEqual(["req-3"]);
    expect(await readdir(dir)).toHaveLength(1); // the first, fully replayed, is gone
    spool.replayed(second!);
    expect(await spool.next(10)).toBeUndefined();
    expect(spool.backlog).toBe(false);
    await appendFile(join(dir, "unrelated.txt"), "x"); // other files are ignored
    await spool.close();
  });
});
