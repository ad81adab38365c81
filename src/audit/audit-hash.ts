import * as crypto from "node:crypto";
import type { AuditEntry, AuditEntryContent } from "./audit-entry.js";

/**
 * The serialization new entries are hashed with. The stores insert entries by unpacking this very text
 * (store/mikro-orm/audit-chain.ts reads its positions): a version 2 changes both.
 */
export const HASH_VERSION = 1;
/** The previous hash of entry 1. */
export const GENESIS_HASH = "0".repeat(64);

/** The position of the chain's last entry; seq 0 and GENESIS_HASH for an empty chain. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Canonical serialization, version 1: a JSON array of a fixed tag, the position, the previous hash and every
 * content field in a fixed order (violations as [framework, reason code] pairs). Strings, whole numbers,
 * booleans, null and arrays only, so JSON.stringify is deterministic; no object key order is involved, and a
 * database that reorders JSON keys (jsonb) changes nothing. Never change this function: add version 2 beside it.
 */
export function canonicalEntryV1(seq: number, prevHash: string, c: AuditEntryContent): string {
  return JSON.stringify([
    "residency.audit.v1",
    seq,
    prevHash,
    c.kind,
    c.occurredAt,
    c.tenantId,
    c.learnerId,
    c.actor,
    c.requestId,
    c.subjectId,
    c.beforeJson,
    c.afterJson,
    c.decisionId,
    c.operation,
    c.resourceType,
    c.resourceId,
    c.requestedRegion,
    c.targetRegion,
    c.callerRegion,
    c.primaryRegion,
    c.allowed,
    c.reasonCodes,
    c.policyId,
    c.policyVersion,
    c.snapshotVersion,
    c.overrideId,
    c.violations.map((v) => [v.framework, v.reasonCode]),
  ]);
}

/** Hex SHA-256 of the entry's canonical serialization; undefined for a version this build does not know. */
export function entryHash(version: number, seq: number, prevHash: string, content: AuditEntryContent): string | undefined {
  if (version !== 1) return undefined;
  return sha256Hex(canonicalEntryV1(seq, prevHash, content));
}

// crypto.hash (Node 20.12+) hashes in one call, without a Hash object per entry.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;
const sha256Hex = oneShot
  ? (text: string) => oneShot("sha256", text, "hex")
  : (text: string) => crypto.createHash("sha256").update(text).digest("hex");

/** Places contents after `head`: consecutive positions, each linked to the one before. */
export function chainEntries(head: ChainHead, contents: readonly AuditEntryContent[]): AuditEntry[] {
  return chainWithCanonical(head, contents).entries;
}

/** chainEntries, also returning each entry's canonical serialization (what its hash covers), in order. */
export function chainWithCanonical(
  head: ChainHead,
  contents: readonly AuditEntryContent[],
): { entries: AuditEntry[]; canonical: string[] } {
  const entries: AuditEntry[] = [];
  const canonical: string[] = [];
  let { seq, hash } = head;
  for (const content of contents) {
    seq += 1;
    const prevHash = hash;
    const text = canonicalEntryV1(seq, prevHash, content);
    hash = sha256Hex(text);
    entries.push(placedEntry(content, seq, HASH_VERSION, prevHash, hash));
    canonical.push(text);
  }
  return { entries, canonical };
}

/**
 * An entry from its content and position, field by field: an object spread of this many properties plus new
 * ones costs V8 tens of microseconds (it leaves the fast path), more than hashing the entry does.
 */
export function placedEntry(c: AuditEntryContent, seq: number, hashVersion: number, prevHash: string, hash: string): AuditEntry {
  return {
    seq,
    hashVersion,
    prevHash,
    hash,
    kind: c.kind,
    occurredAt: c.occurredAt,
    tenantId: c.tenantId,
    learnerId: c.learnerId,
    actor: c.actor,
    requestId: c.requestId,
    subjectId: c.subjectId,
    beforeJson: c.beforeJson,
    afterJson: c.afterJson,
    decisionId: c.decisionId,
    operation: c.operation,
    resourceType: c.resourceType,
    resourceId: c.resourceId,
    requestedRegion: c.requestedRegion,
    targetRegion: c.targetRegion,
    callerRegion: c.callerRegion,
    primaryRegion: c.primaryRegion,
    allowed: c.allowed,
    reasonCodes: c.reasonCodes,
    policyId: c.policyId,
    policyVersion: c.policyVersion,
    snapshotVersion: c.snapshotVersion,
    overrideId: c.overrideId,
    violations: c.violations,
  };
}
