import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import {
  ResidencyService,
  ResolveAccessRequestSchema,
  ResolveAccessResponseSchema,
} from "../../gen/residency/v1/residency_service_pb.js";
import { decisionToProto } from "../../src/api/decision-mapping.js";
import { registration } from "../../src/api/service-handlers.js";
import { decide } from "../../src/domain/decide.js";
import { grpcService } from "../../src/transport/grpc-js-adapter.js";
import { fakeSnapshotView, stored } from "../domain/fake-snapshot-view.js";
import { recordingLogger } from "./fixtures.js";

// Counts the answers the fast paths gave, to tell them from the toBinary / fromBinary fallbacks.
const fastPaths = vi.hoisted(() => ({ encoded: 0, decoded: 0 }));

vi.mock("../../src/api/response-encoders.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/api/response-encoders.js")>();
  return {
    ...actual,
    binaryEncoderFor: (desc: Parameters<typeof actual.binaryEncoderFor>[0]) => {
      const encode = actual.binaryEncoderFor(desc);
      return encode && ((value: unknown) => {
        const bytes = encode(value);
        if (bytes !== undefined) fastPaths.encoded++;
        return bytes;
      });
    },
  };
});

vi.mock("../../src/transport/flat-message-decoder.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/transport/flat-message-decoder.js")>();
  return {
    ...actual,
    flatMessageDecoder: (desc: Parameters<typeof actual.flatMessageDecoder>[0]) => {
      const decode = actual.flatMessageDecoder(desc);
      return decode && ((bytes: Uint8Array) => {
        const message = decode(bytes);
        if (message !== undefined) fastPaths.decoded++;
        return message;
      });
    },
  };
});

const { definition } = grpcService(registration(ResidencyService, {}), recordingLogger());
const resolveAccess = definition.ResolveAccess!;
const view = fakeSnapshotView([stored({ tenantId: "acme", primaryRegion: "us-east", allowedRegions: ["us-west"], complianceFrameworks: ["FERPA"] })]);
const meta = { decisionId: "0d9c5a57-7f3e-4b7e-9a59-8f6f1f3c2b1a", snapshotVersion: 3, decidedAt: 1_750_000_000_042 };
const request = (requestedRegion: string) =>
  ({ tenantId: "acme", learnerId: "", operation: "READ", requestedRegion, dataClassification: undefined }) as const;

describe("grpc-js adapter (de)serializers", () => {
  it("encodes a decision with shared reasons on the fast path, to toBinary's bytes", () => {
    const response = decisionToProto(decide(view, request("us-west"), 0), meta);
    const before = fastPaths.encoded;
    const bytes = resolveAccess.responseSerialize(response);
    expect(fastPaths.encoded).toBe(before + 1);
    expect(bytes).toEqual(Buffer.from(toBinary(ResolveAccessResponseSchema, create(ResolveAccessResponseSchema, response))));
  });

  it("encodes any other answer with toBinary", () => {
    const decision = decide(view, request("us-west"), 0);
    const response = decisionToProto({ ...decision, reasons: [...decision.reasons] }, meta);
    const before = fastPaths.encoded;
    const bytes = resolveAccess.responseSerialize(response);
    expect(fastPaths.encoded).toBe(before);
    expect(fromBinary(ResolveAccessResponseSchema, bytes)).toEqual(create(ResolveAccessResponseSchema, response));
  });

  it("decodes a plain request on the fast path and any other with fromBinary, to the same message", () => {
    for (const [tenantId, fast] of [["acme", true], ["açme", false]] as const) {
      const bytes = Buffer.from(toBinary(ResolveAccessRequestSchema, create(ResolveAccessRequestSchema, { tenantId, operation: 1 })));
      const before = fastPaths.decoded;
      expect(resolveAccess.requestDeserialize(bytes)).toEqual(fromBinary(ResolveAccessRequestSchema, bytes));
      expect(fastPaths.decoded).toBe(before + (fast ? 1 : 0));
    }
  });
});
