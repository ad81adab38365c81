import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  VersionConflictError,
  type FieldViolation,
} from "../domain/errors.js";

export interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** The error domain in google.rpc.ErrorInfo details. */
const ERROR_DOMAIN = "residency.v1";

/**
 * The one place where errors become Connect codes. A user's mistake gets its own code and a message
 * naming the field and the rule; anything unexpected is INTERNAL with no detail (logged, never sent).
 */
export function toConnectError(err: unknown, logger: ErrorLogger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof InvalidArgumentError) return invalidArgument(err.violations);
  if (err instanceof FailedPreconditionError) {
    const details = err.violations.length
      ? [{
          desc: PreconditionFailureSchema,
          value: create(PreconditionFailureSchema, {
            violations: err.violations.map((v) => ({ type: v.rule, subject: v.field, description: v.message })),
          }),
        }]
      : [];
    return new ConnectError(err.message, Code.FailedPrecondition, undefined, details);
  }
  if (err instanceof NotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof PermissionDeniedError) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof AlreadyExistsError) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof VersionConflictError) {
    return new ConnectError(err.message, Code.Aborted, undefined, [
      {
        desc: ErrorInfoSchema,
        value: create(ErrorInfoSchema, {
          reason: "VERSION_CONFLICT",
          domain: ERROR_DOMAIN,
          metadata: { current_version: String(err.currentVersion) },
        }),
      },
    ]);
  }
  if (err instanceof UnavailableError) return new ConnectError(err.message, Code.Unavailable);
  logger.error({ err }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal);
}

/** INVALID_ARGUMENT with one google.rpc.BadRequest field violation per broken rule. */
export function invalidArgument(violations: readonly FieldViolation[]): ConnectError {
  const message = violations.map((v) => v.message).join("; ");
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    {
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: violations.map((v) => ({ field: v.field, description: v.message, reason: v.rule })),
      }),
    },
  ]);
}
