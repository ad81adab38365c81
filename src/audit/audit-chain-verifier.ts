import type { AuditStore } from "../store/audit-store.js";
import { violationRowsOf, type AuditEntry, type StoredViolation } from "./audit-entry.js";
import { entryHash, GENESIS_HASH } from "./audit-hash.js";

/** VerifyAuditChain's answer. */
export interface ChainVerdict {
  readonly valid: boolean;
  /** Entries checked (up to the first bad one). */
  readonly checked: number;
  readonly headSeq: number;
  readonly headHash: string;
  /** 0 when valid. */
  readonly firstBadSeq: number;
  /** "" when valid; else starts with "changed content", "broken link" or "missing entry". */
  readonly problem: string;
}

const PAGE = 1000;

/**
 * Recomputes the chain over [fromSeq, toSeq] (0 and 0: the whole chain). Every position must be there (missing
 * entry), link to the entry before (broken link) and hash to what it stores, its violation rows included
 * (changed content). Up to the head, the last entry must also be the one the chain head names: removing the
 * newest entries is a missing entry too.
 */
export async function verifyAuditChain(store: AuditStore, fromSeq: number, toSeq: number): Promise<ChainVerdict> {
  const head = await store.auditChainHead();
  const from = Math.max(1, fromSeq);
  const to = toSeq === 0 ? head.seq : Math.min(toSeq, head.seq);
  const verdict = (checked: number, firstBadSeq = 0, problem = ""): ChainVerdict => ({
    valid: firstBadSeq === 0,
    checked,
    headSeq: head.seq,
    headHash: head.hash,
    firstBadSeq,
    problem,
  });
  if (from > to) return verdict(0);

  let prevHash = GENESIS_HASH;
  if (from > 1) {
    const [before] = await store.readAuditEntries(from - 1, from - 1, 1);
    if (before === undefined) return verdict(0, from - 1, `missing entry: ${from - 1}, the entry before the range, is not in the log`);
    prevHash = before.hash;
  }

  let expected = from;
  let checked = 0;
  while (expected <= to) {
    const entries = await store.readAuditEntries(expected, to, PAGE);
    if (entries.length === 0) break;
    const violations = groupBySeq(await store.readAuditViolations(expected, entries[entries.length - 1]!.seq));
    for (const entry of entries) {
      const problem = check(entry, expected, prevHash, violations.get(entry.seq) ?? []);
      if (problem !== undefined) return verdict(checked, expected, problem);
      prevHash = entry.hash;
      expected++;
      checked++;
    }
  }
  if (expected <= to) {
    return verdict(checked, expected, `missing entry: ${expected} is not in the log (the chain head is at ${head.seq})`);
  }
  if (to === head.seq && head.seq > 0 && prevHash !== head.hash) {
    return verdict(checked, head.seq, `broken link: entry ${head.seq} is not the entry the chain head names`);
  }
  return verdict(checked);
}

function check(entry: AuditEntry, expected: number, prevHash: string, violations: readonly StoredViolation[]): string | undefined {
  if (entry.seq !== expected) return `missing entry: ${expected} is not in the log (the next is ${entry.seq})`;
  const hash = entryHash(entry.hashVersion, entry.seq, entry.prevHash, entry);
  if (hash === undefined) return `changed content: entry ${entry.seq} has unknown hash version ${entry.hashVersion}`;
  if (hash !== entry.hash) return `changed content: entry ${entry.seq} does not hash to its stored hash`;
  if (entry.prevHash !== prevHash) return `broken link: entry ${entry.seq} does not link to entry ${entry.seq - 1}`;
  if (!sameViolations(violationRowsOf(entry), violations)) {
    return `changed content: the violation rows of entry ${entry.seq} do not match the entry`;
  }
  return undefined;
}

function sameViolations(expected: readonly StoredViolation[], actual: readonly StoredViolation[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((e, i) => {
    const a = actual[i]!;
    return (Object.keys(e) as (keyof StoredViolation)[]).every((key) => e[key] === a[key]);
  });
}

function groupBySeq(rows: readonly StoredViolation[]): Map<number, StoredViolation[]> {
  const bySeq = new Map<number, StoredViolation[]>();
  for (const row of rows) {
    const list = bySeq.get(row.seq);
    if (list) list.push(row);
    else bySeq.set(row.seq, [row]);
  }
  return bySeq;
}
