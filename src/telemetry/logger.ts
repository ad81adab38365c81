import { pino, type Logger, type DestinationStream } from "pino";
import type { LogLevel } from "../config.js";

export type { Logger };

/**
 * JSON lines with the seed's field names (timestamp, level, message). Credentials are redacted wherever
 * they appear in a logged object.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: "message",
      base: { service: "residency" },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: {
        paths: ["authorization", "*.authorization", "headers.authorization", "token", "*.token", "secret", "*.secret"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
