import type { CallContext } from "./call-context.js";

/**
 * The actor recorded on writes. Until authentication exists every caller is "anonymous"; the seed's
 * X-User-ID header is deliberately not trusted as identity.
 */
export function actorOf(_context: CallContext): string {
  return "anonymous";
}
