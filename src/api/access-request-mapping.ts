import type { ResolveAccessRequest } from "../../gen/residency/v1/residency_service_pb.js";
import type { DecisionRequest } from "../domain/decision.js";
import type { FieldViolation } from "../domain/errors.js";
import type { SnapshotView } from "../domain/snapshot-view.js";
import { classificationMapping, operationMapping } from "./enum-mapping.js";

const MAX_ID_LENGTH = 128;
/** Every decision's audit entry keeps the resource: an S3 object key's limit (1,024) bounds what one may add. */
const MAX_RESOURCE_ID_LENGTH = 1024;

/**
 * Checks a ResolveAccessRequest's shape against the snapshot's catalog (unknown region = INVALID_ARGUMENT,
 * step 2 of the decision order) and turns it into the engine's request. Violations are appended, with
 * `prefix` before each field path ("" for a single request, "requests[3]." in a batch).
 */
export function decisionRequestFromProto(
  request: ResolveAccessRequest,
  snapshot: SnapshotView,
  prefix: string,
  violations: FieldViolation[],
): DecisionRequest {
  const tenantId = request.tenantId;
  if (tenantId === "") {
    violations.push({ field: `${prefix}tenant_id`, rule: "required", message: `${prefix}tenant_id is required` });
  } else {
    checkLength(tenantId, "tenant_id", MAX_ID_LENGTH, prefix, violations);
  }
  checkLength(request.learnerId, "learner_id", MAX_ID_LENGTH, prefix, violations);
  checkLength(request.resourceType, "resource_type", MAX_ID_LENGTH, prefix, violations);
  checkLength(request.resourceId, "resource_id", MAX_RESOURCE_ID_LENGTH, prefix, violations);
  const operation = operationMapping.fromProto(request.operation);
  if (operation === undefined) {
    violations.push({
      field: `${prefix}operation`,
      rule: "required",
      message: `${prefix}operation is ${request.operation === 0 ? "required" : `unknown value ${request.operation}`}; use one of ${operationMapping.names}`,
    });
  }
  checkRegion(request.requestedRegion, "requested_region", prefix, snapshot, violations);
  checkRegion(request.callerRegion, "caller_region", prefix, snapshot, violations);
  let dataClassification = undefined;
  if (request.dataClassification !== 0) {
    dataClassification = classificationMapping.fromProto(request.dataClassification);
    if (dataClassification === undefined) {
      violations.push({
        field: `${prefix}data_classification`,
        rule: "enum_value",
        message: `${prefix}data_classification has unknown value ${request.dataClassification}; use one of ${classificationMapping.names}`,
      });
    }
  }
  return {
    tenantId,
    learnerId: request.learnerId,
    operation: operation ?? "READ",
    requestedRegion: request.requestedRegion,
    dataClassification,
  };
}

function checkLength(value: string, field: string, max: number, prefix: string, violations: FieldViolation[]): void {
  if (value.length <= max) return;
  violations.push({ field: `${prefix}${field}`, rule: "max_length", message: `${prefix}${field} is longer than ${max} characters (${value.length})` });
}

function checkRegion(
  region: string,
  field: string,
  prefix: string,
  snapshot: SnapshotView,
  violations: FieldViolation[],
): void {
  if (region === "" || snapshot.region(region) !== undefined) return;
  violations.push({
    field: `${prefix}${field}`,
    rule: "region_exists",
    message: `${prefix}${field} "${region.slice(0, MAX_ID_LENGTH)}" is not a known region; known regions: ${snapshot.regions.map((r) => r.id).join(", ")}`,
  });
}
