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
 * default (one process); Redis pub/sub serves many replicas.
 */
export interface ChangeBus {
  publish(event: ChangeEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  close(): Promise<void>;
}
