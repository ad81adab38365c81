import type { DescMethod } from "@bufbuild/protobuf";
import type { CallContext } from "./call-context.js";
import type { ServiceRegistration } from "./service-handlers.js";

/** A handler with its types erased: unary handlers return a value or promise, streaming ones an AsyncIterable. */
export type AnyHandler = (request: never, context: CallContext) => unknown;

/**
 * Wraps a handler; `(next) => handler`, like Connect interceptors but at the handler level, so that one
 * chain serves both listeners. The first middleware listed runs outermost.
 */
export type HandlerMiddleware = (next: AnyHandler, method: DescMethod) => AnyHandler;

export function applyMiddleware(
  reg: ServiceRegistration,
  middleware: readonly HandlerMiddleware[],
): ServiceRegistration {
  const handlers: Record<string, AnyHandler> = {};
  for (const [name, handler] of Object.entries(reg.handlers)) {
    const method = reg.service.method[name];
    if (method === undefined) throw new Error(`${reg.service.typeName} has no method ${name}`);
    handlers[name] = middleware.reduceRight<AnyHandler>((next, wrap) => wrap(next, method), handler);
  }
  return { service: reg.service, handlers };
}
