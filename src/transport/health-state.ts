export type ServingStatus = "SERVING" | "NOT_SERVING";

/**
 * What the gRPC health service reports, shared by both listeners so that one `set` is seen by every
 * Check and Watch wherever it arrives. The empty name is the server's overall health.
 */
export interface HealthState {
  set(service: string, status: ServingStatus): void;
  /** `undefined` when the name was never set (Check answers NOT_FOUND, Watch SERVICE_UNKNOWN). */
  get(service: string): ServingStatus | undefined;
  /** Sets every known name, the overall "" included — for example NOT_SERVING while draining. */
  setAll(status: ServingStatus): void;
  /** Every known name with its status. */
  entries(): IterableIterator<[string, ServingStatus]>;
  /** Called after each change (not for a `set` that repeats the current status); returns unsubscribe. */
  subscribe(listener: (service: string, status: ServingStatus) => void): () => void;
}

/**
 * Starts with the overall status "" SERVING, as grpc-go's health server does: a server that is up and
 * has nothing more specific to say is serving. The composition root flips it while starting or draining.
 */
export function createHealthState(): HealthState {
  const statuses = new Map<string, ServingStatus>([["", "SERVING"]]);
  const listeners = new Set<(service: string, status: ServingStatus) => void>();

  function set(service: string, status: ServingStatus): void {
    if (statuses.get(service) === status) return;
    statuses.set(service, status);
    // A copy, so a listener that unsubscribes while being notified does not skip its neighbour.
    for (const listener of [...listeners]) listener(service, status);
  }

  return {
    set,
    get: (service) => statuses.get(service),
    setAll(status) {
      for (const service of [...statuses.keys()]) set(service, status);
    },
    entries: () => statuses.entries(),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
