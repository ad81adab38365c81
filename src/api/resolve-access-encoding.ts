import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { InfrastructureSchema } from "../../gen/residency/v1/region_pb.js";
import { ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";

// toBinary of a ResolveAccessResponse was a quarter of a ResolveAccess's CPU (bench/README.md), yet all of
// it but the decision id, the snapshot version and the time is the same for every decision of one policy
// and region. Those fields are encoded once, as toBinary wrote them, and each answer is that encoding
// with the three per-call fields written between its segments, so the bytes stay exactly toBinary's
// (fields in number order).

type ResponseInit = MessageInitShape<typeof ResolveAccessResponseSchema>;
type InfrastructureInit = MessageInitShape<typeof InfrastructureSchema>;

const fields = ResolveAccessResponseSchema.field;
const PER_CALL = [fields.decisionId!.number, fields.snapshotVersion!.number, fields.decideTime!.number] as const;

// Checked at load, so that a field added to the schema fails at start rather than going missing from answers.
const CACHED_FIELDS = [
  "allowed", "targetRegion", "crossRegion", "reasons", "infrastructure", "policyId", "policyVersion",
  "effectiveFrameworks", "emergencyOverrideId", "alternativeRegions", "primaryRegion",
];
const INFRASTRUCTURE_FIELDS = ["region", "storageBucket", "storageEndpoint", "searchEndpoint", "inferenceProvider", "inferenceEndpoint"] as const;
assertFields(ResolveAccessResponseSchema.fields.map((f) => f.localName), [...CACHED_FIELDS, "decisionId", "snapshotVersion", "decideTime"]);
assertFields(InfrastructureSchema.fields.map((f) => f.localName), [...INFRASTRUCTURE_FIELDS]);
// The per-call fields are written between the segments in this order, each behind a one-byte tag.
if (!(PER_CALL[0] < PER_CALL[1] && PER_CALL[1] < PER_CALL[2] && PER_CALL[2] < 16)) {
  throw new Error("resolve-access-encoding: the per-call field numbers changed: update it with the schema");
}

/** The cached fields of one decision shape, as they were when encoded, and their encoding in four segments. */
interface Constant {
  readonly allowed: ResponseInit["allowed"];
  readonly targetRegion: ResponseInit["targetRegion"];
  readonly crossRegion: ResponseInit["crossRegion"];
  readonly infrastructure: readonly unknown[] | undefined;
  readonly policyId: ResponseInit["policyId"];
  readonly policyVersion: ResponseInit["policyVersion"];
  readonly effectiveFrameworks: readonly unknown[] | undefined;
  readonly emergencyOverrideId: ResponseInit["emergencyOverrideId"];
  readonly alternativeRegions: readonly unknown[] | undefined;
  readonly primaryRegion: ResponseInit["primaryRegion"];
  /** Fields before decision_id, between it and snapshot_version, between that and decide_time, after it. */
  readonly segments: readonly Uint8Array[];
}

// Keyed by the frozen, shared reasons list (decision-mapping.ts): the entries live as long as the region
// plans they describe. The other cached fields are compared on every use, so a list that comes back with
// another policy version, routing or alternatives gets a new entry rather than stale bytes.
const constants = new WeakMap<object, Constant>();

/**
 * The protobuf binary encoding of a ResolveAccessResponse (a message or an init shape), byte for byte what
 * toBinary(create(...)) gives; undefined when it cannot vouch for that (reasons that are not frozen,
 * unknown fields, values outside what it handles), and the caller encodes it with toBinary.
 */
export function encodeResolveAccessResponse(value: unknown): Uint8Array | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const response = value as ResponseInit;
  const { reasons } = response;
  if (reasons === undefined || hasUnknownFields(response) || hasUnknownFields(response.infrastructure)) return undefined;
  let constant = constants.get(reasons);
  if (constant === undefined || !matches(constant, response)) {
    if (!Object.isFrozen(reasons) || !reasons.every((reason) => Object.isFrozen(reason))) return undefined;
    constant = constantOf(response);
    constants.set(reasons, constant);
  }
  return withPerCallFields(constant.segments, response);
}

function matches(c: Constant, r: ResponseInit): boolean {
  return (
    c.allowed === r.allowed &&
    c.targetRegion === r.targetRegion &&
    c.crossRegion === r.crossRegion &&
    c.policyId === r.policyId &&
    c.policyVersion === r.policyVersion &&
    c.emergencyOverrideId === r.emergencyOverrideId &&
    c.primaryRegion === r.primaryRegion &&
    sameItems(c.effectiveFrameworks, r.effectiveFrameworks) &&
    sameItems(c.alternativeRegions, r.alternativeRegions) &&
    sameInfrastructure(c.infrastructure, r.infrastructure)
  );
}

function constantOf(r: ResponseInit): Constant {
  const constantOnly = { ...r, decisionId: "", snapshotVersion: 0n, decideTime: undefined };
  const bytes = toBinary(ResolveAccessResponseSchema, create(ResolveAccessResponseSchema, constantOnly));
  return {
    allowed: r.allowed,
    targetRegion: r.targetRegion,
    crossRegion: r.crossRegion,
    infrastructure: infrastructureValues(r.infrastructure),
    policyId: r.policyId,
    policyVersion: r.policyVersion,
    effectiveFrameworks: r.effectiveFrameworks === undefined ? undefined : [...r.effectiveFrameworks],
    emergencyOverrideId: r.emergencyOverrideId,
    alternativeRegions: r.alternativeRegions === undefined ? undefined : [...r.alternativeRegions],
    primaryRegion: r.primaryRegion,
    segments: segmentsAround(bytes, PER_CALL),
  };
}

/** Copies, not the object: a routing that changes later must not change what the entry says it encoded. */
function infrastructureValues(infrastructure: InfrastructureInit | undefined): unknown[] | undefined {
  if (infrastructure === undefined) return undefined;
  return INFRASTRUCTURE_FIELDS.map((name) => infrastructure[name]);
}

function sameInfrastructure(values: readonly unknown[] | undefined, infrastructure: InfrastructureInit | undefined): boolean {
  if (values === undefined || infrastructure === undefined) return values === undefined && infrastructure === undefined;
  for (let i = 0; i < INFRASTRUCTURE_FIELDS.length; i++) if (values[i] !== infrastructure[INFRASTRUCTURE_FIELDS[i]!]) return false;
  return true;
}

function sameItems(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A real message may carry unknown fields, which toBinary writes; init shapes never do. */
function hasUnknownFields(message: object | undefined): boolean {
  const unknown = (message as { $unknown?: readonly unknown[] } | undefined)?.$unknown;
  return unknown !== undefined && unknown.length > 0;
}

/** Splits toBinary's output (top-level fields in number order) at the given field numbers. */
function segmentsAround(bytes: Uint8Array, boundaries: readonly number[]): Uint8Array[] {
  const segments: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  let start = 0;
  while (reader.pos < reader.len) {
    const at = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    while (segments.length < boundaries.length && fieldNo > boundaries[segments.length]!) {
      segments.push(bytes.subarray(start, at));
      start = at;
    }
    reader.skip(wireType, fieldNo);
  }
  while (segments.length <= boundaries.length) {
    segments.push(bytes.subarray(start));
    start = bytes.length;
  }
  return segments;
}

const LENGTH_DELIMITED = 2;
const VARINT = 0;
const DECISION_ID_TAG = (PER_CALL[0] << 3) | LENGTH_DELIMITED;
const SNAPSHOT_VERSION_TAG = (PER_CALL[1] << 3) | VARINT;
const DECIDE_TIME_TAG = (PER_CALL[2] << 3) | LENGTH_DELIMITED;
const SECONDS_TAG = (1 << 3) | VARINT;
const NANOS_TAG = (2 << 3) | VARINT;
const MAX_INT32 = 0x7fffffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function withPerCallFields(segments: readonly Uint8Array[], r: ResponseInit): Uint8Array | undefined {
  const id = r.decisionId ?? "";
  const version = r.snapshotVersion ?? 0n;
  const time = r.decideTime;
  if (typeof id !== "string" || typeof version !== "bigint" || version < 0n || version > MAX_SAFE) return undefined;
  let seconds = 0;
  let nanos = 0;
  if (time !== undefined) {
    const s = time.seconds ?? 0n;
    const n = time.nanos ?? 0;
    // Negative values take ten-byte varints; no clock gives them, so they are left to toBinary.
    if (typeof s !== "bigint" || s < 0n || s > MAX_SAFE || hasUnknownFields(time)) return undefined;
    if (!Number.isInteger(n) || n < 0 || n > MAX_INT32) return undefined;
    seconds = Number(s);
    nanos = n;
  }
  const versionNumber = Number(version);
  const idBytes = id.length === 0 ? 0 : Buffer.byteLength(id, "utf8");
  const timeBytes = (seconds === 0 ? 0 : 1 + varintSize(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  const size =
    segments[0]!.length +
    (idBytes === 0 ? 0 : 1 + varintSize(idBytes) + idBytes) +
    segments[1]!.length +
    (versionNumber === 0 ? 0 : 1 + varintSize(versionNumber)) +
    segments[2]!.length +
    (time === undefined ? 0 : 1 + varintSize(timeBytes) + timeBytes) +
    segments[3]!.length;
  const out = allocate(size);
  let pos = copy(out, 0, segments[0]!);
  if (idBytes !== 0) {
    out[pos++] = DECISION_ID_TAG;
    pos = writeVarint(out, pos, idBytes);
    pos += out.write(id, pos, "utf8");
  }
  pos = copy(out, pos, segments[1]!);
  if (versionNumber !== 0) {
    out[pos++] = SNAPSHOT_VERSION_TAG;
    pos = writeVarint(out, pos, versionNumber);
  }
  pos = copy(out, pos, segments[2]!);
  if (time !== undefined) {
    out[pos++] = DECIDE_TIME_TAG;
    pos = writeVarint(out, pos, timeBytes);
    if (seconds !== 0) {
      out[pos++] = SECONDS_TAG;
      pos = writeVarint(out, pos, seconds);
    }
    if (nanos !== 0) {
      out[pos++] = NANOS_TAG;
      pos = writeVarint(out, pos, nanos);
    }
  }
  copy(out, pos, segments[3]!);
  return out;
}

// Answers are carved from a slab: Buffer.allocUnsafe's 8 KiB pool is refilled every ~18 answers of this
// size, which made the allocation a quarter of the encoding's cost. Each answer is its own range, never
// reused, so a listener may keep it as long as it likes. 64 KiB stays under malloc's mmap threshold, so a
// new slab reuses memory a collected one freed; 256 KiB slabs were fresh mappings, and the page faults on
// their first writes (about 11 µs a page on the VMs here) cost more than the encoding.
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function allocate(size: number): Buffer {
  if (size > SLAB_BYTES / 8) return Buffer.allocUnsafe(size);
  if (size > SLAB_BYTES - slabUsed) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  // Eight-byte aligned, as Buffer's own pool keeps its slices.
  slabUsed += (size + 7) & ~7;
  return out;
}

function copy(out: Buffer, pos: number, bytes: Uint8Array): number {
  if (bytes.length > 0) out.set(bytes, pos);
  return pos + bytes.length;
}

/** A non-negative safe integer as a varint; division, not shifts, which stop at 32 bits. */
function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value > 0x7f) {
    out[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

function assertFields(actual: readonly string[], expected: readonly string[]): void {
  const missing = actual.filter((name) => !expected.includes(name));
  if (missing.length > 0 || actual.length !== expected.length) {
    throw new Error(`resolve-access-encoding does not know the fields ${missing.join(", ")}: update it with the schema`);
  }
}
