import { toConnectError, type ErrorLogger } from "./connect-error-mapping.js";
import type { HandlerMiddleware } from "./handler-middleware.js";

/**
 * Domain errors leave every handler as Connect errors, on whichever listener. A synchronous handler stays
 * synchronous (no promise added), so the listeners can answer it without a microtask hop.
 */
export function errorMappingMiddleware(logger: ErrorLogger): HandlerMiddleware {
  return (next, method) =>
    method.methodKind === "server_streaming"
      ? (request, context) => mapStreamErrors(next(request, context) as AsyncIterable<unknown>, logger)
      : (request, context) => {
          let result: unknown;
          try {
            result = next(request, context);
          } catch (err) {
            throw toConnectError(err, logger);
          }
          if (result instanceof Promise) {
            return result.catch((err: unknown) => {
              throw toConnectError(err, logger);
            });
          }
          return result;
        };
}

async function* mapStreamErrors(stream: AsyncIterable<unknown>, logger: ErrorLogger): AsyncIterable<unknown> {
  try {
    yield* stream;
  } catch (err) {
    throw toConnectError(err, logger);
  }
}
