import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import type { ReasonSchema } from "../../gen/residency/v1/reason_pb.js";
import type { Decision, Reason } from "../domain/decision.js";
import { frameworkMapping, reasonCodeMapping, reasonEffectMapping } from "./enum-mapping.js";

type ReasonInit = MessageInitShape<typeof ReasonSchema>;

export function reasonToProto(reason: Reason): ReasonInit {
  return {
    code: reasonCodeMapping.toProto(reason.code),
    message: reason.message,
    framework: reason.framework ? frameworkMapping.toProto(reason.framework) : 0,
    effect: reasonEffectMapping.toProto(reason.effect),
    overridable: reason.overridable,
    region: reason.region,
  };
}

// Most decisions share their reasons with every decision of the same policy and region (frozen, from the
// region plan): their mapped form is shared too, frozen like them, and lives as long as they do. Its
// identity is what lets resolve-access-encoding.ts reuse the encoded bytes.
const sharedReasons = new WeakMap<readonly Reason[], readonly ReasonInit[]>();

/** The reasons in proto form; the same frozen list for the same frozen reasons. */
export function reasonsToProto(reasons: readonly Reason[]): readonly ReasonInit[] {
  const shared = sharedReasons.get(reasons);
  if (shared !== undefined) return shared;
  const mapped = reasons.map(reasonToProto);
  // A list that can still change (or hold a reason that can) is mapped again on every call.
  if (!Object.isFrozen(reasons) || !reasons.every((reason) => Object.isFrozen(reason))) return mapped;
  const frozen = Object.freeze(mapped.map((reason) => Object.freeze(reason)));
  sharedReasons.set(reasons, frozen);
  return frozen;
}

export function decisionToProto(
  decision: Decision,
  meta: { decisionId: string; snapshotVersion: number; decidedAt: number },
): MessageInitShape<typeof ResolveAccessResponseSchema> {
  return {
    decisionId: meta.decisionId,
    allowed: decision.allowed,
    targetRegion: decision.targetRegion,
    crossRegion: decision.crossRegion,
    // create() copies init lists of messages, so a shared frozen list never ends up in a message.
    reasons: reasonsToProto(decision.reasons) as ReasonInit[],
    infrastructure: decision.routing,
    policyId: decision.policyId,
    policyVersion: BigInt(decision.policyVersion),
    effectiveFrameworks: decision.effectiveFrameworks.map(frameworkMapping.toProto),
    emergencyOverrideId: decision.emergencyOverrideId,
    snapshotVersion: BigInt(meta.snapshotVersion),
    alternativeRegions: decision.alternativeRegions as string[],
    primaryRegion: decision.primaryRegion,
    decideTime: timestampFromMs(meta.decidedAt),
  };
}
