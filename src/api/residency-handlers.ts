import { Code, ConnectError } from "@connectrpc/connect";
import {
  ResidencyService,
  type BatchResolveAccessRequest,
  type ResolveAccessRequest,
} from "../../gen/residency/v1/residency_service_pb.js";
import { defaultRegionPolicy } from "../domain/effective-policy.js";
import type { FieldViolation } from "../domain/errors.js";
import { FailedPreconditionError, NotFoundError } from "../domain/errors.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import { decisionRequestFromProto } from "./access-request-mapping.js";
import type { CallContext } from "./call-context.js";
import { requireTenant, requireTenants } from "./call-principal.js";
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
  /** Decides, records (audit) and shapes every decision. */
  readonly respond: DecisionResponder;
  readonly signer: ObjectUrlSigner;
  /**
   * A request's min_snapshot_version is ahead of this replica: resolves once this replica has it, catching up
   * meanwhile, or after a short bound (false). Absent: such a request is FAILED_PRECONDITION at once.
   */
  readonly awaitVersion?: (version: number) => Promise<boolean>;
}

/**
 * The hot path. Every answer comes from the current in-memory snapshot: no I/O and no await between
 * reading the snapshot and answering, so one request sees one consistent state.
 */
export function residencyHandlers(deps: ResidencyHandlerDeps): ServiceRegistration {
  const { snapshots, respond } = deps;
  // Only a replica that is behind waits (and only then is there an await): the usual path stays synchronous.
  const caughtUp = (version: bigint): Promise<unknown> =>
    deps.awaitVersion !== undefined && version <= BigInt(Number.MAX_SAFE_INTEGER)
      ? deps.awaitVersion(Number(version))
      : Promise.resolve(false);

  const resolveWith = (snapshot: Snapshot, request: ResolveAccessRequest, context: CallContext) => {
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
    return respond(snapshot, decisionRequest, request, context).response;
  };

  // One snapshot for the whole batch, so its answers are mutually consistent.
  const batchWith = (snapshot: Snapshot, request: BatchResolveAccessRequest, context: CallContext) => {
    // Still behind after the wait: the replica's state, not the request, is at fault (as for ResolveAccess).
    const ahead: FieldViolation[] = [];
    request.requests.forEach((item, i) => {
      if (item.minSnapshotVersion <= BigInt(snapshot.version)) return;
      ahead.push({
        field: `requests[${i}].min_snapshot_version`,
        rule: "snapshot_version",
        message: `requests[${i}].min_snapshot_version ${item.minSnapshotVersion} is ahead of this replica's snapshot version ${snapshot.version}`,
      });
    });
    if (ahead.length > 0) throw new FailedPreconditionError(ahead.map((v) => v.message).join("; "), ahead);
    const headerRegion = context.requestHeader.get("x-region") ?? "";
    const violations: FieldViolation[] = [];
    const decisionRequests = request.requests.map((item, i) => {
      if (item.callerRegion === "") item.callerRegion = headerRegion;
      return decisionRequestFromProto(item, snapshot, `requests[${i}].`, violations);
    });
    if (violations.length > 0) throw invalidArgument(violations);
    return {
      snapshotVersion: BigInt(snapshot.version),
      responses: decisionRequests.map((r, i) => respond(snapshot, r, request.requests[i]!, context).response),
    };
  };

  return registration(ResidencyService, {
    resolveAccess(request, context) {
      requireTenant(context, request.tenantId);
      const snapshot = snapshots.current();
      if (request.minSnapshotVersion > BigInt(snapshot.version)) {
        return caughtUp(request.minSnapshotVersion).then(() => resolveWith(snapshots.current(), request, context));
      }
      return resolveWith(snapshot, request, context);
    },

    batchResolveAccess(request, context) {
      const count = request.requests.length;
      if (count === 0 || count > MAX_BATCH_SIZE) {
        throw invalidArgument([
          { field: "requests", rule: "batch_size", message: `requests must hold 1 to ${MAX_BATCH_SIZE} items (got ${count})` },
        ]);
      }
      requireTenants(context, request.requests.map((item) => item.tenantId), (i) => `requests[${i}].tenant_id`);
      const highest = request.requests.reduce((max, item) => (item.minSnapshotVersion > max ? item.minSnapshotVersion : max), 0n);
      if (highest > BigInt(snapshots.current().version)) {
        return caughtUp(highest).then(() => batchWith(snapshots.current(), request, context));
      }
      return batchWith(snapshots.current(), request, context);
    },

    presignObjectUrl(request, context) {
      requireTenant(context, request.tenantId);
      return presignObjectUrl(request, snapshots.current(), deps.signer, respond, context);
    },

    listRegions() {
      const snapshot = snapshots.current();
      return { regions: snapshot.regions.map(regionToProto), snapshotVersion: BigInt(snapshot.version) };
    },

    getEffectivePolicy(request, context) {
      requireTenant(context, request.tenantId);
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
