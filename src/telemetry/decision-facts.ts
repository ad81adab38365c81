import type { DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import {
  ResidencyService,
  type BatchResolveAccessRequest,
  type BatchResolveAccessResponseSchema,
  type PresignObjectUrlRequest,
  type PresignObjectUrlResponseSchema,
  type ResolveAccessRequest,
  type ResolveAccessResponseSchema,
} from "../../gen/residency/v1/residency_service_pb.js";
import { frameworkMapping, operationMapping, reasonCodeMapping, reasonEffectMapping } from "../api/enum-mapping.js";

/** A decision as handlers return it: a ResolveAccessResponse init shape (every field optional). */
export type DecisionInit = MessageInitShape<typeof ResolveAccessResponseSchema>;

/** The request fields every deciding RPC shares (ResolveAccess, its batch items, PresignObjectUrl). */
export type AccessRequest = Pick<ResolveAccessRequest, "tenantId" | "learnerId" | "operation" | "requestedRegion">;

/** Visits every (request, decision) pair of one call; `index` is the batch position (0 otherwise). */
export type DecisionVisitor = (request: AccessRequest, decision: DecisionInit, index: number) => void;

/** Calls the visitor for each decision a call's result holds. */
export type DecisionWalker = (request: unknown, result: unknown, visit: DecisionVisitor) => void;

const walkResolve: DecisionWalker = (request, result, visit) => {
  if (result !== undefined) visit(request as ResolveAccessRequest, result as DecisionInit, 0);
};

const walkBatch: DecisionWalker = (request, result, visit) => {
  const items = (request as BatchResolveAccessRequest).requests;
  const responses = (result as MessageInitShape<typeof BatchResolveAccessResponseSchema> | undefined)?.responses;
  if (responses === undefined) return;
  for (let i = 0; i < responses.length && i < items.length; i++) visit(items[i]!, responses[i]!, i);
};

const walkPresign: DecisionWalker = (request, result, visit) => {
  const decision = (result as MessageInitShape<typeof PresignObjectUrlResponseSchema> | undefined)?.decision;
  if (decision !== undefined) visit(request as PresignObjectUrlRequest, decision, 0);
};

/** The decision walker of a method, resolved once when the middleware wraps it; undefined if it decides nothing. */
export function decisionWalker(method: DescMethod): DecisionWalker | undefined {
  if (method.parent.typeName !== ResidencyService.typeName) return undefined;
  switch (method.name) {
    case "ResolveAccess":
      return walkResolve;
    case "BatchResolveAccess":
      return walkBatch;
    case "PresignObjectUrl":
      return walkPresign;
    default:
      return undefined;
  }
}

// Lower-case names by proto enum number, computed once: label and log values without per-call work.
const lowerNames = (mapping: { fromProto(n: number): string | undefined }, count: number): string[] =>
  Array.from({ length: count }, (_, n) => mapping.fromProto(n)?.toLowerCase() ?? "unspecified");

const OPERATION_NAMES = lowerNames(operationMapping, 16);
const FRAMEWORK_NAMES = lowerNames(frameworkMapping, 16);
const DENY = reasonEffectMapping.toProto("DENY");

/** "read", "write", …; "unspecified" for 0 or an unknown number. Bounded: safe as a metric label. */
export function operationName(operation: number | undefined): string {
  return OPERATION_NAMES[operation ?? 0] ?? "unspecified";
}

/** "gdpr", "ferpa", …; "none" for 0 (a pinning rule) or an unknown number. */
export function frameworkName(framework: number | undefined): string {
  if (framework === undefined || framework === 0) return "none";
  return FRAMEWORK_NAMES[framework] ?? "none";
}

export function isDeny(reason: { effect?: number }): boolean {
  return reason.effect === DENY;
}

/** A reason code by its proto name without the prefix ("REGION_PROHIBITED"). */
export function reasonCodeName(code: number | undefined): string {
  return reasonCodeMapping.fromProto(code ?? 0) ?? "UNSPECIFIED";
}

/** Reason codes in decision order. */
export function reasonCodes(decision: DecisionInit): string[] {
  return (decision.reasons ?? []).map((r) => reasonCodeName(r.code));
}

/** The decision's effective frameworks, lower case (the seed's log format). */
export function frameworkNames(decision: DecisionInit): string[] {
  return (decision.effectiveFrameworks ?? []).map((f) => frameworkName(f));
}
