import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { TracingConfig } from "../config.js";

/** Headers as a CallContext exposes them. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * One app's tracer, with its own context manager and propagator: nothing is registered globally, so two
 * apps in one process (tests) never share spans, and the engine never sees OpenTelemetry.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /** The caller's context from W3C `traceparent` / `tracestate`; ROOT_CONTEXT when absent or malformed. */
  extract(headers: HeaderReader): Context;
  /** Runs `fn` with `context` active, so spans started inside (store queries) become its children. */
  with<T>(context: Context, fn: () => T): T;
  /** Trace id of the active span, if any (for log lines). */
  currentTraceId(): string | undefined;
  /**
   * Runs `fn` (sync or async) inside a child span of the active one. With `onlyInTrace`, no span is made
   * when nothing is active (a health check's ping should not start traces of its own).
   */
  inSpan<T>(name: string, attributes: Attributes, fn: () => T, onlyInTrace?: boolean): T;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** From config.ts; undefined means tracing is off. */
  readonly config: TracingConfig | undefined;
  /** `service.version` of the resource. */
  readonly serviceVersion: string;
  /**
   * Replaces the configured exporters and turns tracing on whatever the config says; spans are exported
   * as each ends (SimpleSpanProcessor). For tests (InMemorySpanExporter).
   */
  readonly exporter?: SpanExporter;
}

const headerGetter: TextMapGetter<HeaderReader> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: () => [],
};

/** Builds the tracer provider, or returns undefined when tracing is off (no middleware, zero cost). */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const { config } = options;
  if (options.exporter === undefined && config === undefined) return undefined;

  const processors: SpanProcessor[] =
    options.exporter !== undefined
      ? [new SimpleSpanProcessor(options.exporter)]
      : (config?.exporters ?? []).map((kind) =>
          kind === "console"
            ? new SimpleSpanProcessor(new ConsoleSpanExporter())
            : new BatchSpanProcessor(new OTLPTraceExporter({ url: config!.otlpTracesUrl })),
        );
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...config?.resourceAttributes,
        [ATTR_SERVICE_NAME]: config?.serviceName ?? "residency",
        [ATTR_SERVICE_VERSION]: options.serviceVersion,
      }),
    ),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer("residency", options.serviceVersion);
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();

  return {
    tracer,
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headerGetter),
    with: (context, fn) => contextManager.with(context, fn),
    currentTraceId() {
      const span = trace.getSpan(contextManager.active());
      return span === undefined ? undefined : span.spanContext().traceId;
    },
    inSpan(name, attributes, fn, onlyInTrace = false) {
      const parent = contextManager.active();
      if (onlyInTrace && trace.getSpan(parent) === undefined) return fn();
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
      let result: ReturnType<typeof fn>;
      try {
        result = contextManager.with(trace.setSpan(parent, span), fn);
      } catch (err) {
        endFailed(span, err);
        throw err;
      }
      if (!(result instanceof Promise)) {
        span.end();
        return result;
      }
      return result.then(
        (value: unknown) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          endFailed(span, err);
          throw err;
        },
      ) as typeof result;
    },
    async shutdown() {
      await provider.shutdown();
      contextManager.disable();
    },
  };
}

function endFailed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}
