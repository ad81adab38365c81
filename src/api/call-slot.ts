import type { CallContext } from "./call-context.js";

/** A value that belongs to one call (its request id, its caller), set by a middleware and read further in. */
export interface CallSlot<T> {
  get(context: CallContext): T | undefined;
  set(context: CallContext, value: T): void;
}

/**
 * Kept on the call's context under a symbol of its own. A WeakMap keyed by contexts did the same, but a
 * WeakMap of short-lived keys is slow on the hot path: about a microsecond per call and slot on the native
 * listener (its table grows and is swept every GC), against nanoseconds for a property. Contexts are
 * ordinary objects made per call by the listeners, so the property goes away with its call.
 */
export function callSlot<T>(name: string): CallSlot<T> {
  const key = Symbol(name);
  return {
    get: (context) => (context as unknown as Partial<Record<symbol, T>>)[key],
    set: (context, value) => {
      (context as unknown as Record<symbol, T>)[key] = value;
    },
  };
}
