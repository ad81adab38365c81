import type { CallContext } from "./call-context.js";
import { callSlot } from "./call-slot.js";
import type { HandlerMiddleware } from "./handler-middleware.js";
import { randomUuid } from "./random-uuid.js";

const REQUEST_ID_HEADER = "x-request-id";
const MAX_REQUEST_ID_LENGTH = 128;
const requestIds = callSlot<string>("request id");

/**
 * Keeps the caller's X-Request-ID for correlation (made up when absent or unusable) and returns it in the
 * response headers. It is never identity: the seed's X-User-ID is not read at all.
 */
export const requestIdMiddleware: HandlerMiddleware = (next) => (request, context) => {
  const given = context.requestHeader.get(REQUEST_ID_HEADER);
  const id =
    given !== null && given.length > 0 && given.length <= MAX_REQUEST_ID_LENGTH && /^[\x21-\x7e]+$/.test(given)
      ? given
      : randomUuid();
  requestIds.set(context, id);
  context.responseHeader.set(REQUEST_ID_HEADER, id);
  return next(request, context);
};

export function requestIdOf(context: CallContext): string {
  return requestIds.get(context) ?? "";
}
