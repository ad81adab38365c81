import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ResolveAccessRequest, ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { decide } from "../domain/decide.js";
import type { Decision, DecisionRequest } from "../domain/decision.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { decisionToProto } from "./decision-mapping.js";

export interface Responded {
  readonly decision: Decision;
  readonly response: MessageInitShape<typeof ResolveAccessResponseSchema>;
  readonly decidedAt: number;
}

/**
 * Decides one validated request and shapes the answer. Every decision of every RPC (ResolveAccess, each
 * batch item, PresignObjectUrl) goes through one responder, which is where recording the decision hooks in.
 */
export type DecisionResponder = (snapshot: Snapshot, request: DecisionRequest, original: ResolveAccessRequest) => Responded;

export function createDecisionResponder(clock: () => number): DecisionResponder {
  return (snapshot, request) => {
    const decidedAt = clock();
    const decision = decide(snapshot, request, decidedAt);
    const response = decisionToProto(decision, { decisionId: randomUUID(), snapshotVersion: snapshot.version, decidedAt });
    return { decision, response, decidedAt };
  };
}
