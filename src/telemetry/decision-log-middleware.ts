import type { CallContext } from "../api/call-context.js";
import { actorOf } from "../api/actor.js";
import type { HandlerMiddleware } from "../api/handler-middleware.js";
import { requestIdOf } from "../api/request-id.js";
import {
  decisionWalker,
  frameworkName,
  frameworkNames,
  isDeny,
  operationName,
  reasonCodeName,
  reasonCodes,
  type AccessRequest,
  type DecisionInit,
} from "./decision-facts.js";
import type { Logger } from "./logger.js";
import { observeCall } from "./observe-call.js";

export interface DecisionLogOptions {
  readonly logger: Logger;
  /** The active span's trace id, when tracing is on. */
  readonly traceId?: () => string | undefined;
}

/**
 * One JSON line per decision with the seed's fields: allowed decisions at debug (nothing is built at
 * info), denies at info with the rules that denied (the compliance violations). Methods that decide
 * nothing are not wrapped at all.
 */
export function decisionLogMiddleware(options: DecisionLogOptions): HandlerMiddleware {
  const { logger, traceId } = options;
  return (next, method) => {
    const walk = decisionWalker(method);
    if (walk === undefined) return next;
    const batch = method.name === "BatchResolveAccess";
    return (request, context) =>
      observeCall(method, next, request, context, (result) => {
        if (result === undefined) return;
        const debug = logger.isLevelEnabled("debug");
        walk(request, result, (item, decision, index) => {
          if (decision.allowed) {
            if (debug) logger.debug(logEntry(item, decision, context, batch ? index : undefined, traceId), "data access resolved");
          } else {
            logger.info(denyEntry(item, decision, context, batch ? index : undefined, traceId), "data access denied");
          }
        });
      });
  };
}

function logEntry(
  request: AccessRequest,
  decision: DecisionInit,
  context: CallContext,
  batchIndex: number | undefined,
  traceId: (() => string | undefined) | undefined,
): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    tenant_id: request.tenantId,
    learner_id: request.learnerId,
    user_id: actorOf(context),
    region: decision.targetRegion ?? "",
    requested_region: request.requestedRegion,
    compliance_frameworks: frameworkNames(decision),
    operation_type: operationName(request.operation),
    emergency_override: Boolean(decision.emergencyOverrideId),
    request_id: requestIdOf(context),
    decision: decision.allowed ? "allow" : "deny",
    reason_codes: reasonCodes(decision),
    cross_region: decision.crossRegion ?? false,
    decision_id: decision.decisionId ?? "",
    snapshot_version: decision.snapshotVersion === undefined ? undefined : Number(decision.snapshotVersion),
  };
  if (decision.emergencyOverrideId) entry.emergency_override_id = decision.emergencyOverrideId;
  if (batchIndex !== undefined) entry.batch_index = batchIndex;
  const trace = traceId?.();
  if (trace !== undefined) entry.trace_id = trace;
  return entry;
}

function denyEntry(
  request: AccessRequest,
  decision: DecisionInit,
  context: CallContext,
  batchIndex: number | undefined,
  traceId: (() => string | undefined) | undefined,
): Record<string, unknown> {
  const entry = logEntry(request, decision, context, batchIndex, traceId);
  entry.violations = (decision.reasons ?? [])
    .filter(isDeny)
    .map((r) => ({ code: reasonCodeName(r.code), framework: frameworkName(r.framework) }));
  entry.alternative_regions = decision.alternativeRegions ?? [];
  return entry;
}
