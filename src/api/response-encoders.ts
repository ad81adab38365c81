import type { DescMessage } from "@bufbuild/protobuf";
import { ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { encodeResolveAccessResponse } from "./resolve-access-encoding.js";

/**
 * A faster protobuf binary encoding of one message type, byte for byte toBinary's; undefined when it
 * cannot vouch for a value, which is then encoded with toBinary.
 */
export type BinaryEncoder = (value: unknown) => Uint8Array | undefined;

// Only the hot path's answers: a listener's serializer asks once per method, never per call.
const encoders = new Map<string, BinaryEncoder>([[ResolveAccessResponseSchema.typeName, encodeResolveAccessResponse]]);

export function binaryEncoderFor(desc: DescMessage): BinaryEncoder | undefined {
  return encoders.get(desc.typeName);
}
