import type { ChangeEvent } from "../bus/change-bus.js";
import { InvalidArgumentError, type FieldViolation } from "../domain/errors.js";
import type { Region } from "../domain/region.js";
import type { RegionStatus } from "../domain/vocabulary.js";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import { writeMeta, type PolicyStore, type WriteAuthor } from "../store/policy-store.js";

export interface RegionStatusServiceDeps {
  readonly store: PolicyStore;
  readonly regions: ReadonlyMap<string, Region>;
  readonly snapshots: SnapshotHolder;
  readonly clock: () => number;
  /** Announces a committed change and resolves once this replica's snapshot includes it. */
  readonly announce: (change: ChangeEvent) => Promise<void>;
}

export interface RegionStatusService {
  /** Records the status through the store and the bus like a policy change; returns the region as decisions now see it. */
  set(regionId: string, status: RegionStatus | undefined, reason: string, actor: WriteAuthor): Promise<Region>;
}

const MAX_REASON_LENGTH = 500;

export function createRegionStatusService(deps: RegionStatusServiceDeps): RegionStatusService {
  return {
    async set(regionId, status, reason, actor) {
      const violations: FieldViolation[] = [];
      if (regionId === "") violations.push({ field: "region", rule: "required", message: "region is required" });
      else if (!deps.regions.has(regionId)) {
        violations.push({
          field: "region",
          rule: "region_exists",
          message: `region "${regionId.slice(0, 128)}" is not a known region; known regions: ${[...deps.regions.keys()].join(", ")}`,
        });
      }
      if (status === undefined) {
        violations.push({ field: "status", rule: "required", message: "status is required: REGION_STATUS_HEALTHY, REGION_STATUS_DEGRADED or REGION_STATUS_DOWN" });
      }
      if (reason.trim() === "") violations.push({ field: "reason", rule: "required", message: "reason is required (it goes to the audit log)" });
      else if (reason.length > MAX_REASON_LENGTH) {
        violations.push({ field: "reason", rule: "max_length", message: `reason is longer than ${MAX_REASON_LENGTH} characters` });
      }
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const result = await deps.store.setRegionStatus(regionId, status!, reason.trim(), writeMeta(actor, deps.clock()));
      await deps.announce({ version: result.changeVersion, kind: "region", ids: [regionId] });
      return deps.snapshots.current().region(regionId)!;
    },
  };
}
