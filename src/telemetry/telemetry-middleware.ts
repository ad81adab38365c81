import type { HandlerMiddleware } from "../api/handler-middleware.js";
import { decisionLogMiddleware } from "./decision-log-middleware.js";
import type { Logger } from "./logger.js";
import type { ResidencyMetrics } from "./metrics.js";
import { metricsMiddleware } from "./metrics-middleware.js";
import { tracingMiddleware } from "./tracing-middleware.js";
import type { Tracing } from "./tracing.js";

export interface TelemetryMiddlewareOptions {
  /** Undefined when tracing is off: then no tracing middleware is installed at all. */
  readonly tracing: Tracing | undefined;
  readonly metrics: ResidencyMetrics;
  readonly logger: Logger;
}

/**
 * The telemetry middleware in the order they must run, to sit after the request-id middleware (their
 * spans and lines carry the id) and before the error mapping (they see Connect codes): the span is
 * outermost so the metrics and the decision log run inside it and know its trace id.
 */
export function telemetryMiddleware(options: TelemetryMiddlewareOptions): HandlerMiddleware[] {
  const { tracing, metrics, logger } = options;
  return [
    ...(tracing === undefined ? [] : [tracingMiddleware(tracing)]),
    metricsMiddleware(metrics),
    decisionLogMiddleware({ logger, ...(tracing === undefined ? {} : { traceId: tracing.currentTraceId }) }),
  ];
}
