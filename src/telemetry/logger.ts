import { pino, type Logger, type DestinationStream } from "pino";
import type { LogLevel } from "../config.js";

export type { Logger };

export interface LoggerOptions {
  /** Where the JSON lines go. @default stdout */
  readonly destination?: DestinationStream;
  /** The trace id of the span active where a line is logged, if any; it becomes `trace_id`. */
  readonly traceId?: () => string | undefined;
}

/** Keys whose values are credentials. */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "accessToken",
  "refreshToken",
  "idToken",
  "password",
  "secret",
  "client_secret",
  "clientSecret",
  "api_key",
  "apiKey",
];

/**
 * Censored wherever they appear: at the top level, one level down, and in a `headers` object at either
 * place (pino redacts by path; `*` stands for exactly one key).
 */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `headers.${key}`, `*.headers.${key}`]),
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
];

/**
 * JSON lines with the seed's field names (timestamp, level, message), plus `trace_id` while a span is
 * active when `traceId` is given. Credentials are redacted wherever they appear in a logged object.
 */
export function createLogger(level: LogLevel, destinationOrOptions?: DestinationStream | LoggerOptions): Logger {
  const options: LoggerOptions =
    destinationOrOptions === undefined || "write" in destinationOrOptions
      ? { destination: destinationOrOptions as DestinationStream | undefined }
      : destinationOrOptions;
  const traceId = options.traceId;
  return pino(
    {
      level,
      messageKey: "message",
      base: { service: "residency" },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
      // pino merges the log call's object into this one, so it must be a fresh object every time.
      ...(traceId === undefined
        ? {}
        : {
            mixin: () => {
              const id = traceId();
              return id === undefined ? {} : { trace_id: id };
            },
          }),
    },
    options.destination,
  );
}
