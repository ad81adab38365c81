import type { CallContext } from "./call-context.js";
import { principalOf } from "./call-principal.js";

/**
 * The actor recorded on writes and in decision logs: the verified caller's subject (a token's `sub`, or
 * `mtls:<CN>` for a client certificate). The seed's X-User-ID header is deliberately not trusted.
 */
export function actorOf(context: CallContext): string {
  return principalOf(context)?.subject ?? "anonymous";
}
