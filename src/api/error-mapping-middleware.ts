import { toConnectError, type ErrorLogger } from "./connect-error-mapping.js";
import type { HandlerMiddleware } from "./handler-middleware.js";

/** Domain errors leave every handler as Connect errors, on whichever listener. */
export function errorMappingMiddleware(logger: ErrorLogger): HandlerMiddleware {
  return (next, method) =>
    method.methodKind === "server_streaming"
      ? (request, context) => mapStreamErrors(next(request, context) as AsyncIterable<unknown>, logger)
      : async (request, context) => {
          try {
            return await next(request, context);
          } catch (err) {
            throw toConnectError(err, logger);
          }
        };
}

async function* mapStreamErrors(stream: AsyncIterable<unknown>, logger: ErrorLogger): AsyncIterable<unknown> {
  try {
    yield* stream;
  } catch (err) {
    throw toConnectError(err, logger);
  }
}
