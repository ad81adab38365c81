import { Code, ConnectError } from "@connectrpc/connect";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { defaultRegionPolicy } from "../domain/effective-policy.js";
import type { FieldViolation } from "../domain/errors.js";
import { NotFoundError } from "../domain/errors.js";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import { decisionRequestFromProto } from "./access-request-mapping.js";
import { invalidArgument } from "./connect-error-mapping.js";
import type { DecisionResponder } from "./decision-responder.js";
import type { ObjectUrlSigner } from "../presign/object-url-signer.js";
import { presignObjectUrl } from "./presign-handler.js";
import { effectivePolicyToProto } from "./effective-policy-mapping.js";
import { regionToProto } from "./region-mapping.js";
import { registration, type ServiceRegistration } from "./service-handlers.js";

export const MAX_BATCH_SIZE = 1000;

export interface ResidencyHandlerDeps {
  readonly snapshots: SnapshotHolder;
  /** Decides and shapes every decision (and records it, once audit exists). */
  readonly respond: DecisionResponder;
  readonly signer: ObjectUrlSigner;
}

/**
 * The hot path. Every answer comes from the current in-memory snapshot: no I/O and no await between
 * reading the snapshot and answering, so one request sees one consistent state.
 */
export function residencyHandlers(deps: ResidencyHandlerDeps): ServiceRegistration {
  const { snapshots, respond } = deps;
  return registration(ResidencyService, {
    resolveAccess(request, context) {
      const snapshot = snapshots.current();
      if (request.minSnapshotVersion > BigInt(snapshot.version)) {
        throw new ConnectError(
          `min_snapshot_version ${request.minSnapshotVersion} is ahead of this replica's snapshot version ${snapshot.version}`,
          Code.FailedPrecondition,
        );
      }
      if (request.callerRegion === "") request.callerRegion = context.requestHeader.get("x-region") ?? "";
      const violations: FieldViolation[] = [];
      const decisionRequest = decisionRequestFromProto(request, snapshot, "", violations);
      if (violations.length > 0) throw invalidArgument(violations);
      return respond(snapshot, decisionRequest, request).response;
    },

    batchResolveAccess(request, context) {
      const count = request.requests.length;
      if (count === 0 || count > MAX_BATCH_SIZE) {
        throw invalidArgument([
          { field: "requests", rule: "batch_size", message: `requests must hold 1 to ${MAX_BATCH_SIZE} items (got ${count})` },
        ]);
      }
      // One snapshot for the whole batch, so its answers are mutually consistent.
      const snapshot = snapshots.current();
      const headerRegion = context.requestHeader.get("x-region") ?? "";
      const violations: FieldViolation[] = [];
      const decisionRequests = request.requests.map((item, i) => {
        if (item.callerRegion === "") item.callerRegion = headerRegion;
        if (item.minSnapshotVersion > BigInt(snapshot.version)) {
          violations.push({
            field: `requests[${i}].min_snapshot_version`,
            rule: "snapshot_version",
            message: `requests[${i}].min_snapshot_version ${item.minSnapshotVersion} is ahead of snapshot version ${snapshot.version}`,
          });
        }
        return decisionRequestFromProto(item, snapshot, `requests[${i}].`, violations);
      });
      if (violations.length > 0) throw invalidArgument(violations);
      return {
        snapshotVersion: BigInt(snapshot.version),
        responses: decisionRequests.map((r, i) => respond(snapshot, r, request.requests[i]!).response),
      };
    },

    presignObjectUrl(request) {
      return presignObjectUrl(request, snapshots.current(), deps.signer, respond);
    },

    listRegions() {
      const snapshot = snapshots.current();
      return { regions: snapshot.regions.map(regionToProto), snapshotVersion: BigInt(snapshot.version) };
    },

    getEffectivePolicy(request) {
      if (request.tenantId === "") {
        throw invalidArgument([{ field: "tenant_id", rule: "required", message: "tenant_id is required" }]);
      }
      const snapshot = snapshots.current();
      let policy = snapshot.effectivePolicy(request.tenantId, request.learnerId);
      if (policy === undefined && snapshot.defaultRegion !== undefined) {
        policy = defaultRegionPolicy(request.tenantId, request.learnerId, snapshot.defaultRegion);
      }
      if (policy === undefined) {
        const who = request.learnerId ? `learner "${request.learnerId}" of tenant "${request.tenantId}"` : `tenant "${request.tenantId}"`;
        throw new NotFoundError(`no policy covers ${who}, and no DEFAULT_REGION is configured`);
      }
      return {
        effectivePolicy: effectivePolicyToProto(policy, request.learnerId),
        sources: policy.sources.map((s) => ({ policyId: s.policyId, version: BigInt(s.version), learnerId: s.learnerId })),
        snapshotVersion: BigInt(snapshot.version),
      };
    },
  });
}
