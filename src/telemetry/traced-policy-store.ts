import type { PolicyStore } from "../store/policy-store.js";
import type { Tracing } from "./tracing.js";

/** Methods traced only inside a trace: health checks ping often and should not start traces. */
const ONLY_IN_TRACE = new Set<PropertyKey>(["ping"]);

/**
 * The store with a child span around every method ("PolicyStore.<method>", `db.system.name`,
 * `db.operation.name`). A proxy, so methods added to the interface are traced without changes here.
 */
export function tracedPolicyStore(store: PolicyStore, tracing: Tracing, dbSystem: string): PolicyStore {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function" || typeof property !== "string") return value;
      let traced = wrapped.get(property);
      if (traced === undefined) {
        const name = `PolicyStore.${property}`;
        const attributes = { "db.system.name": dbSystem, "db.operation.name": property };
        const onlyInTrace = ONLY_IN_TRACE.has(property);
        traced = (...args: unknown[]) => tracing.inSpan(name, attributes, () => value.apply(target, args), onlyInTrace);
        wrapped.set(property, traced);
      }
      return traced;
    },
  });
}
