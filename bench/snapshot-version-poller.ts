// How the propagation bench asks a replica which snapshot version it serves: GetEffectivePolicy over one HTTP/2
// connection of its own, with the request encoded once and only the answer decoded per poll. A generated client
// (connect-node) costs the bench's process about a millisecond of CPU per call; with three replicas polled at once
// that stretched each replica's poll cycle to about 5 ms, and the bench saw a new version that much later than the
// replica served it: its own resolution, not propagation.
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GetEffectivePolicyRequestSchema, GetEffectivePolicyResponseSchema } from "../gen/residency/v1/residency_service_pb.js";
import { grpcFrame, grpcMessages } from "./grpc-frames.js";

export interface SnapshotVersionPoller {
  /** The snapshot version the replica answers GetEffectivePolicy with; ConnectError (its code) for an error answer. */
  version(): Promise<number>;
  close(): void;
}

/** Polls `baseUrl` (a gRPC listener) for the tenant's effective policy with a bearer token. */
export function snapshotVersionPoller(baseUrl: string, tenantId: string, token: string): SnapshotVersionPoller {
  let session: ClientHttp2Session | undefined;
  const open = (): ClientHttp2Session => {
    if (session === undefined || session.closed || session.destroyed) {
      const opened = connect(baseUrl);
      opened.on("error", () => undefined); // the call on it fails too, and says why
      opened.on("close", () => {
        if (session === opened) session = undefined;
      });
      session = opened;
    }
    return session;
  };
  const body = grpcFrame(toBinary(GetEffectivePolicyRequestSchema, create(GetEffectivePolicyRequestSchema, { tenantId })));
  const headers = {
    ":method": "POST",
    ":path": "/residency.v1.ResidencyService/GetEffectivePolicy",
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${token}`,
  };
  return {
    version: () =>
      new Promise((resolve, reject) => {
        const stream = open().request(headers);
        const chunks: Buffer[] = [];
        let status: IncomingHttpHeaders = {};
        stream.on("response", (h) => (status = h));
        stream.on("trailers", (t) => (status = { ...status, ...t }));
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", reject);
        stream.on("end", () => {
          const code = Number(status["grpc-status"] ?? Code.Unknown);
          if (code !== 0) {
            const message = status["grpc-message"];
            reject(new ConnectError(typeof message === "string" ? decodeURIComponent(message) : "", code));
            return;
          }
          try {
            const [message] = grpcMessages(Buffer.concat(chunks));
            if (message === undefined) throw new Error("GetEffectivePolicy answered without a message");
            resolve(Number(fromBinary(GetEffectivePolicyResponseSchema, message).snapshotVersion));
          } catch (err) {
            reject(err as Error);
          }
        });
        stream.end(body);
      }),
    close: () => session?.close(),
  };
}
