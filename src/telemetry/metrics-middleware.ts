import type { HandlerMiddleware } from "../api/handler-middleware.js";
import { decisionWalker, type DecisionVisitor } from "./decision-facts.js";
import type { ResidencyMetrics } from "./metrics.js";
import { observeCall } from "./observe-call.js";

/**
 * Times every RPC (by method and code) and counts every decision. Label children are resolved per method
 * and code once; a call adds two clock reads and the counters' increments.
 */
export function metricsMiddleware(metrics: ResidencyMetrics): HandlerMiddleware {
  const countDecision: DecisionVisitor = (request, decision) => metrics.countDecision(request.operation, decision);
  return (next, method) => {
    const record = metrics.rpcRecorder(method);
    const walk = decisionWalker(method);
    return (request, context) => {
      const started = performance.now();
      return observeCall(method, next, request, context, (result, code) => {
        record((performance.now() - started) / 1000, code);
        if (walk !== undefined && result !== undefined) walk(request, result, countDecision);
      });
    };
  };
}
