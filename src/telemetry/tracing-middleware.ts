import type { DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type {
  BatchResolveAccessRequest,
  BatchResolveAccessResponseSchema,
  GetEffectivePolicyRequest,
  GetEffectivePolicyResponseSchema,
} from "../../gen/residency/v1/residency_service_pb.js";
import type { HandlerMiddleware } from "../api/handler-middleware.js";
import { requestIdOf } from "../api/request-id.js";
import { decisionWalker, operationName, reasonCodes, type AccessRequest, type DecisionInit } from "./decision-facts.js";
import { observeCall } from "./observe-call.js";
import type { Tracing } from "./tracing.js";

// RPC semantic conventions (the rpc.* attributes as the brief and most backends know them). Copied, not
// imported from the semconv "incubating" entry point, as its authors advise.
const RPC_SYSTEM = "rpc.system";
const RPC_SERVICE = "rpc.service";
const RPC_METHOD = "rpc.method";
const RPC_GRPC_STATUS_CODE = "rpc.grpc.status_code";
const RPC_CONNECT_RPC_ERROR_CODE = "rpc.connect_rpc.error_code";

/** Codes that mean the server failed (span status ERROR); the others are the caller's doing. */
const SERVER_ERRORS = new Set<Code>([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/** How one method's request and result become span attributes, resolved when the middleware wraps it. */
interface MethodAttributes {
  request?(span: Span, request: never): void;
  result?(span: Span, request: never, result: never): void;
}

/**
 * A SERVER span per RPC, continuing the caller's W3C trace, with the decision's facts as `residency.*`
 * attributes. A batch is one span with its size and allow/deny counts. Installed only when tracing is on.
 */
export function tracingMiddleware(tracing: Tracing): HandlerMiddleware {
  return (next, method) => {
    const spanName = `${method.parent.typeName}/${method.name}`;
    const attributes = methodAttributes(method);
    return (request, context) => {
      const grpc = context.protocolName !== "connect";
      const parent = tracing.extract(context.requestHeader);
      const span = tracing.tracer.startSpan(
        spanName,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [RPC_SYSTEM]: grpc ? "grpc" : "connect_rpc",
            [RPC_SERVICE]: method.parent.typeName,
            [RPC_METHOD]: method.name,
            "residency.protocol": context.protocolName,
            "residency.request_id": requestIdOf(context),
          },
        },
        parent,
      );
      attributes.request?.(span, request);
      return tracing.with(trace.setSpan(parent, span), () =>
        observeCall(method, next, request, context, (result, code, error) => {
          if (result !== undefined) attributes.result?.(span, request, result as never);
          if (grpc) span.setAttribute(RPC_GRPC_STATUS_CODE, code);
          else if (code !== 0) span.setAttribute(RPC_CONNECT_RPC_ERROR_CODE, codeToString(code));
          if (code !== 0 && SERVER_ERRORS.has(code)) {
            if (error instanceof Error) span.recordException(error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: codeToString(code) });
          }
          span.end();
        }),
      );
    };
  };
}

function methodAttributes(method: DescMethod): MethodAttributes {
  if (decisionWalker(method) !== undefined) {
    if (method.name === "BatchResolveAccess") return batchAttributes;
    return method.name === "PresignObjectUrl" ? presignAttributes : resolveAttributes;
  }
  if (method.name === "GetEffectivePolicy") return effectivePolicyAttributes;
  return snapshotVersionAttributes;
}

function setAccessRequest(span: Span, request: AccessRequest): void {
  span.setAttribute("residency.tenant_id", request.tenantId);
  if (request.learnerId !== "") span.setAttribute("residency.learner_id", request.learnerId);
  if (request.requestedRegion !== "") span.setAttribute("residency.requested_region", request.requestedRegion);
  span.setAttribute("residency.operation", operationName(request.operation));
}

function setDecision(span: Span, decision: DecisionInit): void {
  span.setAttributes({
    "residency.decision": decision.allowed ? "allow" : "deny",
    "residency.region": decision.targetRegion ?? "",
    "residency.cross_region": decision.crossRegion ?? false,
    "residency.reason_codes": reasonCodes(decision),
  });
  if (decision.snapshotVersion !== undefined) span.setAttribute("residency.snapshot_version", Number(decision.snapshotVersion));
  if (decision.policyId) span.setAttribute("residency.policy_id", decision.policyId);
  if (decision.emergencyOverrideId) span.setAttribute("residency.emergency_override_id", decision.emergencyOverrideId);
  if (!decision.allowed && decision.alternativeRegions?.length) {
    span.setAttribute("residency.alternative_regions", decision.alternativeRegions);
  }
}

const resolveAttributes: MethodAttributes = {
  request: (span, request: AccessRequest) => setAccessRequest(span, request),
  result: (span, _request, result: DecisionInit) => setDecision(span, result),
};

const presignAttributes: MethodAttributes = {
  request: (span, request: AccessRequest) => setAccessRequest(span, request),
  result: (span, _request, result: { decision?: DecisionInit }) => {
    if (result.decision !== undefined) setDecision(span, result.decision);
  },
};

const batchAttributes: MethodAttributes = {
  request: (span, request: BatchResolveAccessRequest) => span.setAttribute("residency.batch_size", request.requests.length),
  result: (span, _request, result: MessageInitShape<typeof BatchResolveAccessResponseSchema>) => {
    let allowed = 0;
    let denied = 0;
    for (const response of result.responses ?? []) {
      if (response.allowed) allowed++;
      else denied++;
    }
    span.setAttributes({ "residency.allowed_count": allowed, "residency.denied_count": denied });
    if (result.snapshotVersion !== undefined) span.setAttribute("residency.snapshot_version", Number(result.snapshotVersion));
  },
};

const effectivePolicyAttributes: MethodAttributes = {
  request: (span, request: GetEffectivePolicyRequest) => {
    span.setAttribute("residency.tenant_id", request.tenantId);
    if (request.learnerId !== "") span.setAttribute("residency.learner_id", request.learnerId);
  },
  result: (span, _request, result: MessageInitShape<typeof GetEffectivePolicyResponseSchema>) => {
    const primary = result.effectivePolicy?.primaryRegion;
    if (primary) span.setAttribute("residency.primary_region", primary);
    if (result.snapshotVersion !== undefined) span.setAttribute("residency.snapshot_version", Number(result.snapshotVersion));
  },
};

const snapshotVersionAttributes: MethodAttributes = {
  result: (span, _request, result: { snapshotVersion?: unknown }) => {
    if (typeof result.snapshotVersion === "bigint") span.setAttribute("residency.snapshot_version", Number(result.snapshotVersion));
  },
};
