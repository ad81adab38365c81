import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ResolveAccessRequestSchema,
  ResolveAccessResponseSchema,
  type PresignObjectUrlRequest,
  type PresignObjectUrlResponseSchema,
} from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FieldViolation } from "../domain/errors.js";
import type { ObjectUrlSigner } from "../presign/object-url-signer.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { decisionRequestFromProto } from "./access-request-mapping.js";
import type { CallContext } from "./call-context.js";
import { invalidArgument } from "./connect-error-mapping.js";
import type { DecisionResponder } from "./decision-responder.js";

export const DEFAULT_PRESIGN_SECONDS = 3600;
export const MAX_PRESIGN_SECONDS = 604_800;
const MAX_OBJECT_KEY_BYTES = 1024;

/**
 * PresignObjectUrl decides exactly like ResolveAccess (same validation, same engine, same snapshot) and
 * signs a URL only when the decision allows it, for the target region's bucket and endpoint.
 */
export async function presignObjectUrl(
  request: PresignObjectUrlRequest,
  snapshot: Snapshot,
  signer: ObjectUrlSigner,
  respond: DecisionResponder,
  context: CallContext,
): Promise<MessageInitShape<typeof PresignObjectUrlResponseSchema>> {
  const violations: FieldViolation[] = [];
  if (request.operation !== Operation.READ && request.operation !== Operation.WRITE) {
    violations.push({
      field: "operation",
      rule: "presign_operation",
      message: "operation must be OPERATION_READ (GET) or OPERATION_WRITE (PUT) for a presigned URL",
    });
  }
  if (request.objectKey === "") {
    violations.push({ field: "object_key", rule: "required", message: "object_key is required" });
  } else if (Buffer.byteLength(request.objectKey) > MAX_OBJECT_KEY_BYTES) {
    violations.push({ field: "object_key", rule: "max_length", message: `object_key is longer than ${MAX_OBJECT_KEY_BYTES} bytes (the S3 limit)` });
  }
  const expiresSeconds = request.expiresSeconds === 0 ? DEFAULT_PRESIGN_SECONDS : request.expiresSeconds;
  if (expiresSeconds > MAX_PRESIGN_SECONDS) {
    violations.push({
      field: "expires_seconds",
      rule: "range",
      message: `expires_seconds must be from 1 to ${MAX_PRESIGN_SECONDS} (7 days, the SigV4 maximum); 0 means ${DEFAULT_PRESIGN_SECONDS}`,
    });
  }
  const asAccess = create(ResolveAccessRequestSchema, {
    tenantId: request.tenantId,
    learnerId: request.learnerId,
    operation: request.operation,
    requestedRegion: request.requestedRegion,
    resourceType: "object",
    resourceId: request.objectKey,
  });
  const decisionRequest = decisionRequestFromProto(asAccess, snapshot, "", violations);
  if (violations.length > 0) throw invalidArgument(violations.filter(dedupeOperation()));
  if (!signer.configured) {
    throw new ConnectError(
      "PresignObjectUrl needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)",
      Code.FailedPrecondition,
    );
  }

  const { decision, response, decidedAt } = respond(snapshot, decisionRequest, asAccess, context);
  if (!decision.allowed || decision.routing === undefined) {
    throw new ConnectError(
      `access denied: ${decision.reasons.filter((r) => r.effect === "DENY").map((r) => r.message).join("; ")}`,
      Code.PermissionDenied,
      undefined,
      [{ desc: ResolveAccessResponseSchema, value: create(ResolveAccessResponseSchema, response) }],
    );
  }
  const method = request.operation === Operation.READ ? "GET" : "PUT";
  const url = await signer.sign({
    regionId: decision.routing.region,
    bucket: decision.routing.storageBucket,
    endpoint: decision.routing.storageEndpoint,
    key: request.objectKey,
    method,
    expiresSeconds,
  });
  return { url, method, expiresAt: timestampFromMs(decidedAt + expiresSeconds * 1000), decision: response };
}

/** The operation check above and the shared one may both complain about an unset operation: keep one. */
function dedupeOperation() {
  let seen = false;
  return (v: FieldViolation) => {
    if (v.field !== "operation") return true;
    if (seen) return false;
    seen = true;
    return true;
  };
}
