import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { Metadata, status as GrpcStatus, type StatusObject } from "@grpc/grpc-js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { TransportLogger } from "./transport-logger.js";

/**
 * Turns whatever a handler threw into the status grpc-js sends. A ConnectError keeps its code (Connect
 * codes are gRPC codes), its raw message and its details, encoded as grpc-status-details-bin exactly as
 * Connect's own gRPC handler does, so clients cannot tell the listeners apart. Anything else is a bug:
 * logged here, and the client learns only "internal error".
 */
export function grpcErrorStatus(error: unknown, procedure: string, logger: TransportLogger): StatusObject {
  if (!(error instanceof ConnectError)) {
    logger.error({ err: error, procedure }, "handler failed");
    return { code: GrpcStatus.INTERNAL, details: "internal error", metadata: new Metadata() };
  }
  const metadata = new Metadata();
  error.metadata.forEach((value, key) => appendHeader(metadata, key, value));
  if (error.details.length > 0) {
    const status = create(StatusSchema, {
      code: error.code,
      message: error.rawMessage,
      details: error.details.map((detail) =>
        "desc" in detail
          ? anyPack(detail.desc, create(detail.desc, detail.value))
          : create(AnySchema, { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value }),
      ),
    });
    metadata.set("grpc-status-details-bin", toBuffer(toBinary(StatusSchema, status)));
  }
  // Connect codes are gRPC codes, number for number.
  return { code: error.code as number, details: error.rawMessage, metadata };
}

/** Copies one header into grpc-js Metadata: "-bin" values travel base64 in Headers, as bytes in Metadata. */
export function appendHeader(metadata: Metadata, key: string, value: string): void {
  try {
    if (key.endsWith("-bin")) metadata.add(key, Buffer.from(value, "base64"));
    else metadata.add(key, value);
  } catch {
    // grpc-js rejects names it considers invalid (and reserved ones); such a header cannot be sent.
  }
}

/** A Buffer view of the bytes, no copy: grpc-js calls Buffer methods on what serializers return. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
