/**
 * What the audit modules log through: pino's logger has it, and so has the audit writer thread's stand-in,
 * which forwards each line to the main thread's logger (one log stream, one level).
 */
export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
