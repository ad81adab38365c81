/** The slice of a logger (pino's shape) the listeners need: problems only, never per-call noise. */
export interface TransportLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
