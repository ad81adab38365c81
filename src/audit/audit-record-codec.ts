import type { AdminAuditRecord, AuditedReason, AuditRecord, DecisionAuditRecord } from "./audit-record.js";

/**
 * Audit records as one line of JSON each, for the hop from the decision path to the audit writer thread.
 * A decision is a positional array (a fraction of what structured-cloning the object costs the decision path);
 * its reasons, usually the same frozen array for every decision of a policy and region, are encoded once per
 * array and reused. Admin records are rare and go as objects. Lines never contain a raw newline, so a batch is
 * the lines joined by "\n".
 */

type PackedReason = [code: string, effect: string, framework?: string];

const reasonsJson = new WeakMap<readonly AuditedReason[], string>();

function encodeReasons(reasons: readonly AuditedReason[]): string {
  let json = reasonsJson.get(reasons);
  if (json === undefined) {
    json = JSON.stringify(
      reasons.map((r): PackedReason => (r.framework === undefined ? [r.code, r.effect] : [r.code, r.effect, r.framework])),
    );
    // Only frozen arrays are shared between decisions; a fresh one would only fill the cache.
    if (Object.isFrozen(reasons)) reasonsJson.set(reasons, json);
  }
  return json;
}

export function encodeAuditRecord(record: AuditRecord): string {
  if (record.kind !== "DECISION") return JSON.stringify(record);
  const r = record;
  const scalars = JSON.stringify([
    r.time,
    r.decisionId,
    r.snapshotVersion,
    r.actor,
    r.requestId,
    r.tenantId,
    r.learnerId,
    r.operation,
    r.resourceType,
    r.resourceId,
    r.requestedRegion,
    r.callerRegion,
    r.targetRegion,
    r.primaryRegion,
    r.allowed ? 1 : 0,
    r.policyId,
    r.policyVersion,
    r.overrideId,
  ]);
  return `${scalars.slice(0, -1)},${encodeReasons(r.reasons)}]`;
}

/** The record a line encodes; throws on a line that `encodeAuditRecord` did not write. */
export function decodeAuditRecord(line: string): AuditRecord {
  const value: unknown = JSON.parse(line);
  if (!Array.isArray(value)) return value as AdminAuditRecord;
  if (value.length !== 19) throw new Error(`audit record line has ${value.length} fields, expected 19`);
  const reasons = (value[18] as PackedReason[]).map(
    ([code, effect, framework]) => ({ code, effect, framework }) as AuditedReason,
  );
  const decision: DecisionAuditRecord = {
    kind: "DECISION",
    time: value[0],
    decisionId: value[1],
    snapshotVersion: value[2],
    actor: value[3],
    requestId: value[4],
    tenantId: value[5],
    learnerId: value[6],
    operation: value[7],
    resourceType: value[8],
    resourceId: value[9],
    requestedRegion: value[10],
    callerRegion: value[11],
    targetRegion: value[12],
    primaryRegion: value[13],
    allowed: value[14] === 1,
    policyId: value[15],
    policyVersion: value[16],
    overrideId: value[17],
    reasons,
  };
  return decision;
}
