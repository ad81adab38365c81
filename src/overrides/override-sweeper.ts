export interface OverrideSweeperLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Runs the expiry sweep (`EmergencyOverrideService.sweep`) every `intervalMs`, one at a time. Every replica runs one:
 * the transitions are conditional on the status, so when two race, one marks the override and the other skips it.
 * Decisions never depend on it (expires_at is compared with each decision's time); it makes the stored status and the
 * audit log say EXPIRED.
 */
export interface OverrideSweeper {
  start(): void;
  /** Sweeps now (or joins the sweep under way); resolves with how many overrides it expired. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function createOverrideSweeper(options: {
  readonly sweep: () => Promise<number>;
  readonly intervalMs: number;
  readonly logger: OverrideSweeperLogger;
}): OverrideSweeper {
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<number> | undefined;
  let failing = false;

  const sweep = (): Promise<number> => {
    inFlight ??= options
      .sweep()
      .then(
        (expired) => {
          if (expired > 0) options.logger.info({ expired }, "emergency overrides expired");
          failing = false;
          return expired;
        },
        (err: unknown) => {
          // Logged once per outage; the next tick tries again.
          if (!failing) options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "emergency override sweep failed; retrying");
          failing = true;
          return 0;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void sweep(), options.intervalMs);
      timer.unref();
      void sweep();
    },
    sweep,
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
