/** What the composition root holds of either listener. */
export interface Listener {
  /** Binds and starts serving; resolves to the bound port (useful when asked for port 0). */
  start(): Promise<{ port: number }>;
  /**
   * Stops accepting, lets in-flight calls finish for up to `graceMs`, then cuts what is left.
   * Calling it again returns the same promise.
   */
  stop(graceMs: number): Promise<void>;
}
