import type { AdminAuditRecord, AuditedReason, AuditRecord, DecisionAuditRecord } from "./audit-record.js";

/**
 * Audit records as one string each, for the hop from the decision path to the audit writer thread (audit-ring).
 * A decision goes in a compact form when it can (below), else as one positional JSON array of the same fields (a
 * fraction of what structured-cloning the object costs the decision path); admin records are rare and go as JSON
 * objects.
 */

type PackedReason = [code: string, effect: string, framework?: string];

/**
 * The compact form of a decision: a marker, the UTF-16 lengths of the per-call fields (one char each), the
 * fields themselves back to back, then the fields a decision shares with every other decision of its policy,
 * region plan and snapshot, as JSON encoded once per shape. JSON.stringify of the whole record was most of what
 * recording a decision cost the decision thread (escaping each field, building the array); concatenation only
 * links the strings the call already holds, and the ring's UTF-8 write flattens them once.
 */
const COMPACT = "\u0001";
const PER_CALL_FIELDS = 11;
const SHARED_FIELDS = 8;
/** A length must be one UTF-16 unit that survives UTF-8 (no surrogate): longer fields go as JSON. */
const MAX_COMPACT_LENGTH = 0xd800;

interface SharedPart {
  readonly snapshotVersion: number;
  readonly targetRegion: string;
  readonly primaryRegion: string;
  readonly allowed: boolean;
  readonly policyId: string;
  readonly policyVersion: number;
  readonly overrideId: string;
  readonly json: string;
}

// Keyed by the frozen reasons array the engine shares between decisions of one region plan (as the answer's
// cached encoding is); the other shared fields are compared on every use, so a change gets a new entry.
const sharedParts = new WeakMap<readonly AuditedReason[], SharedPart>();

function sharedJson(r: DecisionAuditRecord): string {
  const cached = sharedParts.get(r.reasons);
  if (
    cached !== undefined &&
    cached.snapshotVersion === r.snapshotVersion &&
    cached.targetRegion === r.targetRegion &&
    cached.primaryRegion === r.primaryRegion &&
    cached.allowed === r.allowed &&
    cached.policyId === r.policyId &&
    cached.policyVersion === r.policyVersion &&
    cached.overrideId === r.overrideId
  ) {
    return cached.json;
  }
  const json = JSON.stringify([
    r.snapshotVersion,
    r.targetRegion,
    r.primaryRegion,
    r.allowed ? 1 : 0,
    r.policyId,
    r.policyVersion,
    r.overrideId,
    r.reasons.map((reason): PackedReason =>
      reason.framework === undefined ? [reason.code, reason.effect] : [reason.code, reason.effect, reason.framework],
    ),
  ]);
  // Only frozen arrays are shared between decisions; a fresh one would only fill the cache.
  if (Object.isFrozen(r.reasons)) {
    const { snapshotVersion, targetRegion, primaryRegion, allowed, policyId, policyVersion, overrideId } = r;
    sharedParts.set(r.reasons, { snapshotVersion, targetRegion, primaryRegion, allowed, policyId, policyVersion, overrideId, json });
  }
  return json;
}

/** Each per-call field must keep its UTF-16 length through UTF-8 and back (no lone surrogate) and fit a length char. */
const compactable = (field: string): boolean => field.length < MAX_COMPACT_LENGTH && field.isWellFormed();

function encodeCompact(r: DecisionAuditRecord): string | undefined {
  if (!Number.isFinite(r.time)) return undefined;
  const time = String(r.time);
  const { decisionId, actor, requestId, tenantId, learnerId, operation, resourceType, resourceId, requestedRegion, callerRegion } = r;
  if (
    !compactable(decisionId) || !compactable(actor) || !compactable(requestId) || !compactable(tenantId) ||
    !compactable(learnerId) || !compactable(operation) || !compactable(resourceType) || !compactable(resourceId) ||
    !compactable(requestedRegion) || !compactable(callerRegion)
  ) {
    return undefined;
  }
  const lengths = String.fromCharCode(
    time.length, decisionId.length, actor.length, requestId.length, tenantId.length, learnerId.length,
    operation.length, resourceType.length, resourceId.length, requestedRegion.length, callerRegion.length,
  );
  return (
    COMPACT + lengths + time + decisionId + actor + requestId + tenantId + learnerId + operation + resourceType +
    resourceId + requestedRegion + callerRegion + sharedJson(r)
  );
}

export function encodeAuditRecord(record: AuditRecord): string {
  if (record.kind !== "DECISION") return JSON.stringify(record);
  const r = record;
  const compact = encodeCompact(r);
  if (compact !== undefined) return compact;
  // The same fields in the same order as one JSON array: the per-call ones, then the shared part's.
  const perCall = JSON.stringify([
    r.time, r.decisionId, r.actor, r.requestId, r.tenantId, r.learnerId, r.operation, r.resourceType, r.resourceId,
    r.requestedRegion, r.callerRegion,
  ]);
  return `${perCall.slice(0, -1)},${sharedJson(r).slice(1)}`;
}

/** The record a line encodes; throws on a line that `encodeAuditRecord` did not write. */
export function decodeAuditRecord(line: string): AuditRecord {
  if (line.startsWith(COMPACT)) return decodeCompact(line);
  const value: unknown = JSON.parse(line);
  if (!Array.isArray(value)) return value as AdminAuditRecord;
  const fields = PER_CALL_FIELDS + SHARED_FIELDS;
  if (value.length !== fields) throw new Error(`audit record line has ${value.length} fields, expected ${fields}`);
  return decisionOf(value[0] as number, value.slice(1, PER_CALL_FIELDS) as string[], value.slice(PER_CALL_FIELDS));
}

function decodeCompact(line: string): DecisionAuditRecord {
  const fieldsAt = 1 + PER_CALL_FIELDS;
  if (line.length < fieldsAt) throw new Error(`compact audit record line has ${line.length} characters, fewer than its lengths need`);
  const fields: string[] = [];
  let at = fieldsAt;
  for (let i = 1; i < fieldsAt; i++) {
    const length = line.charCodeAt(i);
    if (at + length > line.length) throw new Error(`compact audit record line ends inside field ${i - 1}`);
    fields.push(line.slice(at, at + length));
    at += length;
  }
  const shared: unknown = JSON.parse(line.slice(at));
  if (!Array.isArray(shared) || shared.length !== SHARED_FIELDS) {
    throw new Error(`compact audit record line: the shared fields are not an array of ${SHARED_FIELDS}`);
  }
  return decisionOf(Number(fields[0]), fields.slice(1), shared);
}

/** A decision from its time, its other per-call fields (in encodeCompact's order) and its shared part (sharedJson's). */
function decisionOf(time: number, perCall: readonly string[], shared: readonly unknown[]): DecisionAuditRecord {
  const [decisionId, actor, requestId, tenantId, learnerId, operation, resourceType, resourceId, requestedRegion, callerRegion] = perCall as [
    string, string, string, string, string, string, string, string, string, string,
  ];
  return {
    kind: "DECISION",
    time,
    decisionId,
    snapshotVersion: shared[0] as number,
    actor,
    requestId,
    tenantId,
    learnerId,
    operation: operation as DecisionAuditRecord["operation"],
    resourceType,
    resourceId,
    requestedRegion,
    callerRegion,
    targetRegion: shared[1] as string,
    primaryRegion: shared[2] as string,
    allowed: shared[3] === 1,
    policyId: shared[4] as string,
    policyVersion: shared[5] as number,
    overrideId: shared[6] as string,
    reasons: (shared[7] as PackedReason[]).map(([code, effect, framework]) => ({ code, effect, framework }) as AuditedReason),
  };
}
