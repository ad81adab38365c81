import { Code, ConnectError } from "@connectrpc/connect";
import type { Principal } from "../auth/principal.js";
import type { Role } from "../auth/roles.js";
import type { AuthenticateCall } from "./authenticate-call.js";
import type { CallContext } from "./call-context.js";
import { bindPrincipal } from "./call-principal.js";
import type { HandlerMiddleware } from "./handler-middleware.js";
import { rolesFor } from "./method-roles.js";
import { requestIdOf } from "./request-id.js";

export interface AuthLogger {
  info(obj: object, msg: string): void;
}

/**
 * Authenticates every call (bearer JWT or mapped client certificate), checks the method's roles
 * (api/method-roles.ts) and binds the principal to the call for principalOf / requireTenant /
 * visibleTenants. UNAUTHENTICATED and PERMISSION_DENIED are logged with the reason, the method and the
 * request id; never a header, never a token.
 */
export function authMiddleware(options: { authenticate: AuthenticateCall; logger: AuthLogger }): HandlerMiddleware {
  const { authenticate, logger } = options;
  return (next, method) => {
    const roles = rolesFor(method);
    const procedure = `${method.parent.typeName}/${method.name}`;
    const refuse = (err: unknown, context: CallContext): never => {
      if (err instanceof ConnectError) {
        logger.info(
          { procedure, request_id: requestIdOf(context), reason: err.rawMessage },
          err.code === Code.Unauthenticated ? "call refused: unauthenticated" : "call refused: the token could not be verified",
        );
      }
      throw err;
    };
    const authorize = (principal: Principal, request: never, context: CallContext): unknown => {
      if (!holdsAny(principal, roles)) {
        const needed = roles.filter((r) => r !== "admin");
        const message =
          `${procedure} needs role ${needed.length > 0 ? `${needed.join(" or ")} (or admin)` : "admin"}; ` +
          `caller "${principal.subject}" has ${principal.roles.size > 0 ? `role(s) ${[...principal.roles].join(", ")}` : "no known role"}`;
        logger.info({ procedure, request_id: requestIdOf(context), subject: principal.subject, reason: message }, "call refused: permission denied");
        throw new ConnectError(message, Code.PermissionDenied);
      }
      bindPrincipal(context, principal);
      return next(request, context);
    };
    return method.methodKind === "server_streaming"
      ? (request, context) => authorizedStream(authenticate, authorize, refuse, request, context)
      : (request, context) => {
          let principal: Principal | Promise<Principal>;
          try {
            principal = authenticate(context);
          } catch (err) {
            return refuse(err, context);
          }
          // A cached token: no promise, so a synchronous decision stays synchronous.
          if (!(principal instanceof Promise)) return authorize(principal, request, context);
          return principal.then(
            (p) => authorize(p, request, context),
            (err: unknown) => refuse(err, context),
          );
        };
  };
}

function holdsAny(principal: Principal, roles: readonly Role[]): boolean {
  for (const role of roles) if (principal.roles.has(role)) return true;
  return false;
}

/** Streams are not the hot path: authenticate inside the generator, before the handler's first message. */
async function* authorizedStream(
  authenticate: AuthenticateCall,
  authorize: (principal: Principal, request: never, context: CallContext) => unknown,
  refuse: (err: unknown, context: CallContext) => never,
  request: never,
  context: CallContext,
): AsyncIterable<unknown> {
  let principal: Principal;
  try {
    principal = await authenticate(context);
  } catch (err) {
    return refuse(err, context);
  }
  yield* authorize(principal, request, context) as AsyncIterable<unknown>;
}
