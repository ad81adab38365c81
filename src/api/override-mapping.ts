import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EmergencyOverrideStatus, type EmergencyOverrideSchema } from "../../gen/residency/v1/override_pb.js";
import type { EmergencyOverride, OverrideStatus } from "../domain/emergency-override.js";

const STATUS: Readonly<Record<OverrideStatus, EmergencyOverrideStatus>> = {
  PENDING: EmergencyOverrideStatus.PENDING,
  ACTIVE: EmergencyOverrideStatus.ACTIVE,
  EXPIRED: EmergencyOverrideStatus.EXPIRED,
  REVOKED: EmergencyOverrideStatus.REVOKED,
  REJECTED: EmergencyOverrideStatus.REJECTED,
};

const time = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));

export function overrideToProto(o: EmergencyOverride): MessageInitShape<typeof EmergencyOverrideSchema> {
  return {
    overrideId: o.overrideId,
    tenantId: o.tenantId,
    reason: o.reason,
    affectedLearners: [...o.affectedLearners],
    sourceRegion: o.sourceRegion,
    targetRegion: o.targetRegion,
    durationHours: o.durationHours,
    status: STATUS[o.status],
    requestedBy: o.requestedBy,
    requestedAt: time(o.requestedAt),
    approvedBy: o.approvedBy,
    approvedAt: time(o.approvedAt),
    expiresAt: time(o.expiresAt),
    revokedBy: o.revokedBy,
    revokedAt: time(o.revokedAt),
    revokeReason: o.revokeReason,
    usageCount: BigInt(o.usageCount),
    lastUsedAt: time(o.lastUsedAt),
  };
}
