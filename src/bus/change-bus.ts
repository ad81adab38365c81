/** A committed change, as announced to every replica. */
export interface ChangeEvent {
  /** The store's change counter after the change. */
  readonly version: number;
  /** What changed: "policy", later "region" and "override". */
  readonly kind: string;
  readonly ids: readonly string[];
}

/**
 * Carries "the store is now at version N" to every replica. The in-process bus serves the embedded
 * default (one process); Redis pub/sub serves many replicas. Delivery is at most once and may repeat a
 * version: subscribers ignore versions they already have and catch up from the store on a gap.
 */
export interface ChangeBus {
  /** Connects. Never waits for a server that is down: the bus keeps retrying and calls `onConnected` when it gets there. */
  start(): Promise<void>;
  /** Fails at once (never queues) while a networked bus is disconnected. */
  publish(event: ChangeEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  /**
   * Called each time a networked bus (re)connects and subscribes: events published while it was away are lost,
   * so subscribers catch up from the store and the outbox relay publishes what writers could not. Returns an
   * unsubscribe function. The in-process bus never calls it.
   */
  onConnected(listener: () => void): () => void;
  /** False while a networked bus is disconnected. */
  readonly connected: boolean;
  close(): Promise<void>;
}
