import { Metadata, type MetadataValue, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import type { CallContext, PeerCertificate } from "../api/call-context.js";
import { appendHeader } from "./grpc-error-status.js";
import { peerCertificateFrom } from "./peer-certificate.js";

/** The calls the adapter serves; both carry metadata, `cancelled` and the "cancelled" event. */
export type GrpcServerCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** Request metadata read the way Headers reads: lower-case names, repeated values joined by ", ". */
class MetadataReader {
  constructor(private readonly metadata: Metadata) {}

  get(name: string): string | null {
    const values = this.metadata.get(name);
    if (values.length === 1) return asText(values[0] as MetadataValue);
    return values.length === 0 ? null : values.map(asText).join(", ");
  }
}

/** "-bin" values are bytes in Metadata and base64 in Headers. */
function asText(value: MetadataValue): string {
  return typeof value === "string" ? value : value.toString("base64");
}

/** Response headers, collected until the first message (or the status) goes out. */
class MetadataWriter {
  metadata: Metadata | undefined;

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    // Most calls set one header on a fresh Metadata: nothing to replace there.
    if (this.metadata === undefined) this.metadata = new Metadata();
    else this.metadata.remove(key);
    appendHeader(this.metadata, key, value);
  }
}

/**
 * The CallContext of the grpc-js listener. It is allocated per call on the sidecar hot path, so it
 * builds no Headers object and creates its AbortController only if a handler reads `signal`.
 */
export class GrpcCallContext implements CallContext {
  readonly protocolName = "grpc-native";
  readonly requestHeader: MetadataReader;
  readonly responseHeader = new MetadataWriter();
  private controller: AbortController | undefined;
  private peer: { value: PeerCertificate | undefined } | undefined;

  constructor(private readonly call: GrpcServerCall) {
    this.requestHeader = new MetadataReader(call.metadata);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.call.cancelled) controller.abort(new Error("call cancelled"));
      else this.call.once("cancelled", () => controller.abort(new Error("call cancelled")));
    }
    return this.controller.signal;
  }

  /** grpc-js reports the certificate only for a TLS connection whose client certificate was verified. */
  get peerCertificate(): PeerCertificate | undefined {
    this.peer ??= { value: peerCertificateFrom(this.call.getAuthContext().sslPeerCertificate) };
    return this.peer.value;
  }

  /** Sends the collected response headers, if any; grpc-js sends empty ones by itself otherwise. */
  sendHeaders(): void {
    const { metadata } = this.responseHeader;
    if (metadata) {
      this.responseHeader.metadata = undefined;
      this.call.sendMetadata(metadata);
    }
  }
}
