import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceRegistration } from "./service-handlers.js";

/**
 * The registration with a handler for every unary and server-streaming method, those without one answering
 * UNIMPLEMENTED. Listeners answer a missing handler UNIMPLEMENTED by themselves, but before any middleware:
 * with these stubs an RPC of a later issue is authenticated and authorized like any other, so a caller
 * cannot tell implemented methods from others without the right to call them.
 */
export function withUnimplementedStubs(reg: ServiceRegistration): ServiceRegistration {
  const handlers: Record<string, ServiceRegistration["handlers"][string]> = { ...reg.handlers };
  for (const method of reg.service.methods) {
    if (handlers[method.localName] !== undefined) continue;
    const error = () => new ConnectError(`${reg.service.typeName}/${method.name} is not implemented yet`, Code.Unimplemented);
    if (method.methodKind === "unary") {
      handlers[method.localName] = () => {
        throw error();
      };
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = async function* () {
        throw error();
      };
    }
  }
  return { service: reg.service, handlers };
}
