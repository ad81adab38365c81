import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../../gen/health/v1/health_pb.js";
import {
  BatchResolveAccessRequestSchema,
  ResolveAccessRequestSchema,
  ResolveAccessResponseSchema,
} from "../../gen/residency/v1/residency_service_pb.js";
import type { Operation } from "../../gen/residency/v1/types_pb.js";
import { flatMessageDecoder } from "../../src/transport/flat-message-decoder.js";

/** A seeded PRNG (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const TEXTS = ["", "bench-edu", "student-42", "a", "x".repeat(200), "us-west", "ünïcødé", "💾", "tab\tand\nnewline"];
const NUMBERS = [0, 1, 2, 5, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, -1];

function randomRequest() {
  return create(ResolveAccessRequestSchema, {
    tenantId: pick(TEXTS),
    learnerId: pick(TEXTS),
    operation: Math.abs(pick(NUMBERS)) % 9,
    resourceType: pick(TEXTS),
    resourceId: pick(TEXTS),
    requestedRegion: pick(TEXTS),
    callerRegion: pick(TEXTS),
    dataClassification: pick(NUMBERS),
    minSnapshotVersion: BigInt(Math.abs(pick(NUMBERS))) + (next() < 0.1 ? 2n ** 40n : 0n),
  });
}

/** fromBinary's answer, or the error it throws. */
function slow(desc: DescMessage, bytes: Uint8Array): unknown {
  try {
    return fromBinary(desc, bytes);
  } catch (error) {
    return error;
  }
}

describe("flat message decoder", () => {
  const decodeRequest = flatMessageDecoder(ResolveAccessRequestSchema)!;

  it("decodes a typical request itself, into exactly fromBinary's message", () => {
    const request = create(ResolveAccessRequestSchema, {
      tenantId: "bench-edu", learnerId: "student-42", operation: 1, resourceType: "document", resourceId: "a-1", requestedRegion: "us-west",
    });
    const bytes = Buffer.from(toBinary(ResolveAccessRequestSchema, request));
    const fast = decodeRequest(bytes);
    expect(fast).toEqual(fromBinary(ResolveAccessRequestSchema, bytes));
    expect(Object.keys(fast!)).toEqual(Object.keys(fromBinary(ResolveAccessRequestSchema, bytes)));
    expect(flatMessageDecoder(HealthCheckRequestSchema)!(Buffer.from([0x0a, 0x01, 0x78]))).toEqual(
      create(HealthCheckRequestSchema, { service: "x" }),
    );
  });

  it("agrees with fromBinary on every request it decodes, and decodes the ASCII ones with short numbers", () => {
    let decoded = 0;
    for (let i = 0; i < 3_000; i++) {
      const request = randomRequest();
      const bytes = Buffer.from(toBinary(ResolveAccessRequestSchema, request));
      const fast = decodeRequest(bytes);
      if (fast === undefined) continue;
      decoded++;
      expect(fast).toEqual(request);
    }
    expect(decoded).toBeGreaterThan(100);
  });

  it("leaves bytes it does not take to fromBinary: damaged, unknown fields, non-ASCII text, long varints", () => {
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const bytes = Buffer.from(toBinary(ResolveAccessRequestSchema, randomRequest()));
      const damaged = Buffer.from(bytes);
      const at = Math.floor(next() * Math.max(1, damaged.length));
      const kind = Math.floor(next() * 4);
      let input: Buffer;
      if (kind === 0) input = damaged.subarray(0, at);
      else if (kind === 1) input = Buffer.concat([damaged, Buffer.from([Math.floor(next() * 256), Math.floor(next() * 256)])]);
      else {
        if (damaged.length > 0) damaged[at] = Math.floor(next() * 256);
        input = damaged;
      }
      const fast = decodeRequest(input);
      if (fast === undefined) continue;
      decoded++;
      expect(fast).toEqual(slow(ResolveAccessRequestSchema, input));
    }
    expect(decoded).toBeGreaterThan(100);
    const unknownField = Buffer.concat([Buffer.from(toBinary(ResolveAccessRequestSchema, create(ResolveAccessRequestSchema, { tenantId: "t" }))), Buffer.from([0x78, 0x01])]);
    expect(decodeRequest(unknownField)).toBeUndefined();
    expect(decodeRequest(Buffer.from(toBinary(ResolveAccessRequestSchema, create(ResolveAccessRequestSchema, { tenantId: "é" }))))).toBeUndefined();
    expect(decodeRequest(Buffer.from(toBinary(ResolveAccessRequestSchema, create(ResolveAccessRequestSchema, { operation: -1 as Operation }))))).toBeUndefined();
    expect(decodeRequest(Buffer.from([0x0a, 0xff, 0xc3]))).toBeUndefined();
  });

  it("keeps the last of a repeated field, as fromBinary does", () => {
    const bytes = Buffer.from([0x0a, 0x01, 0x61, 0x18, 0x02, 0x0a, 0x01, 0x62]);
    expect(decodeRequest(bytes)).toEqual(fromBinary(ResolveAccessRequestSchema, bytes));
    expect(decodeRequest(bytes)).toMatchObject({ tenantId: "b", operation: 2 });
  });

  it("is not made for messages with lists, maps or message fields", () => {
    expect(flatMessageDecoder(BatchResolveAccessRequestSchema)).toBeUndefined();
    expect(flatMessageDecoder(ResolveAccessResponseSchema)).toBeUndefined();
  });
});
