import { execFile } from "node:child_process";
import type { ClientHttp2Session } from "node:http2";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { registration, type ServiceRegistration } from "../../src/api/service-handlers.js";
import type { TransportLogger } from "../../src/transport/transport-logger.js";

/** A promise and the functions that settle it. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets a test hold a call inside its handler: `entered` resolves when it arrives, `release` lets it go. */
export interface Gate {
  readonly entered: Deferred;
  readonly release: Deferred;
}

export function gate(): Gate {
  return { entered: deferred(), release: deferred() };
}

/** A logger that remembers what it was told, to assert on (and to keep test output quiet). */
export function recordingLogger(): TransportLogger & { errors: { obj: object; msg: string }[] } {
  const errors: { obj: object; msg: string }[] = [];
  return { errors, warn() {}, error: (obj, msg) => void errors.push({ obj, msg }) };
}

/**
 * The three residency services with a few handlers: enough to exercise unary, errors with details,
 * unimplemented methods, response headers, server streaming and a call held open (`slow`).
 */
export function testRegistrations(slow?: { current: Gate }): ServiceRegistration[] {
  return [
    registration(ResidencyService, {
      listRegions: () => ({ regions: [{ id: "eu-west" }] }),
      resolveAccess: (req, ctx) => {
        if (!req.tenantId) {
          throw new ConnectError("tenant_id: required", Code.InvalidArgument, undefined, [
            {
              desc: BadRequestSchema,
              value: create(BadRequestSchema, { fieldViolations: [{ field: "tenant_id", description: "required" }] }),
            },
          ]);
        }
        ctx.responseHeader.set("x-request-id", ctx.requestHeader.get("x-request-id") ?? "none");
        return { allowed: true, targetRegion: "eu-west", decisionId: ctx.protocolName };
      },
      getEffectivePolicy: () => {
        throw new Error("secret database detail");
      },
      presignObjectUrl: async () => {
        if (!slow) throw new ConnectError("no gate", Code.FailedPrecondition);
        const { entered, release } = slow.current;
        entered.resolve();
        await release.promise;
        return { url: "https://example.test/object" };
      },
      // batchResolveAccess is left out: UNIMPLEMENTED on both listeners.
    }),
    registration(AdminService, {}),
    registration(AuditService, {
      async *streamAuditEvents(req) {
        for (let seq = 1n; seq <= 3n; seq++) {
          if (req.tenantId === "forbidden" && seq === 2n) throw new ConnectError("not yours", Code.PermissionDenied);
          yield { event: { seq, tenantId: req.tenantId } };
        }
      },
    }),
  ];
}

const bufBin = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));

/** Runs `buf curl` with gRPC over HTTP/2 cleartext, resolving to its stdout. */
export function bufCurl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bufBin,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`buf curl failed: ${stderr || error.message}`)) : resolve(stdout)),
    );
  });
}

/**
 * A unary gRPC call with an empty request on a raw HTTP/2 session, so that a test can also watch the
 * session itself (for the server's GOAWAY). Resolves to the grpc-status and the response body bytes.
 */
export function rawGrpcCall(session: ClientHttp2Session, path: string): Promise<{ grpcStatus: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let bytes = 0;
    let grpcStatus = "";
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("trailers", (trailers) => (grpcStatus = String(trailers["grpc-status"])));
    stream.on("end", () => resolve({ grpcStatus, bytes }));
    stream.on("error", reject);
    stream.end(Buffer.alloc(5)); // one uncompressed, empty message
  });
}

/** The ConnectError a call failed with; fails the test if the call succeeded. */
export async function rejectionOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (reason) {
    return ConnectError.from(reason);
  }
  throw new Error("the call was expected to fail");
}
