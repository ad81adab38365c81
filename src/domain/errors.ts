// Plain domain errors. They carry what went wrong in domain terms; the API edge maps them to Connect
// codes in one place (api/connect-error-mapping.ts).

/** One broken rule on one field, for INVALID_ARGUMENT (or FAILED_PRECONDITION) with one detail per field. */
export interface FieldViolation {
  /** Path of the field in the request message, proto names: "policy.allowed_regions[1]". */
  readonly field: string;
  /** Short rule name, for example "region_exists" or a reason code such as "GDPR_PRIMARY_OUTSIDE_EEA". */
  readonly rule: string;
  readonly message: string;
}

export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  constructor(readonly violations: readonly FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.message}`).join("; "));
  }
}

/** The request is well formed but the current state forbids it (e.g. a learner's policy would break). */
export class FailedPreconditionError extends Error {
  override readonly name = "FailedPreconditionError";
  constructor(message: string, readonly violations: readonly FieldViolation[] = []) {
    super(message);
  }
}

/** The caller is who it says, and may call the method, but the rules forbid this act (e.g. approving one's own request). */
export class PermissionDeniedError extends Error {
  override readonly name = "PermissionDeniedError";
}

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

export class AlreadyExistsError extends Error {
  override readonly name = "AlreadyExistsError";
}

/** Optimistic concurrency: the caller's expected version is not the current one. */
export class VersionConflictError extends Error {
  override readonly name = "VersionConflictError";
  constructor(message: string, readonly currentVersion: number) {
    super(message);
  }
}

/** A dependency (store, bus) cannot serve the request right now. */
export class UnavailableError extends Error {
  override readonly name = "UnavailableError";
}
