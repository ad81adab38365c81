import type { WriteAuthor } from "../store/policy-store.js";
import { actorOf } from "./actor.js";
import type { CallContext } from "./call-context.js";
import { requestIdOf } from "./request-id.js";

/** Who makes an admin write through the API: the actor and the request id, both recorded in its audit event. */
export function authorOf(context: CallContext): WriteAuthor {
  return { actor: actorOf(context), requestId: requestIdOf(context) };
}
