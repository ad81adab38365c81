import { AlreadyExistsError, VersionConflictError } from "../../domain/errors.js";
import type { PolicyRecord } from "../entities/policy-record.js";

export function alreadyExists(existing: Pick<PolicyRecord, "tenantId" | "learnerId" | "policyId">): AlreadyExistsError {
  return new AlreadyExistsError(
    existing.learnerId === ""
      ? `tenant ${existing.tenantId} already has a tenant policy ${existing.policyId}`
      : `learner ${existing.learnerId} of tenant ${existing.tenantId} already has a policy ${existing.policyId}`,
  );
}

export function versionConflict(policyId: string, expected: number, current: number): VersionConflictError {
  return new VersionConflictError(
    `policy ${policyId} is at version ${current}, not the expected version ${expected}`,
    current,
  );
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
