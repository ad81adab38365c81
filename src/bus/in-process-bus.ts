import type { ChangeBus, ChangeEvent } from "./change-bus.js";

/** The embedded default: one process, listeners called synchronously in publish order. */
export function createInProcessBus(): ChangeBus {
  const listeners = new Set<(event: ChangeEvent) => void>();
  return {
    async start() {},
    async publish(event) {
      for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onConnected() {
      return () => undefined;
    },
    connected: true,
    async close() {
      listeners.clear();
    },
  };
}
