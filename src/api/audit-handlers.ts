import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { verifyAuditChain } from "../audit/audit-chain-verifier.js";
import type { AuditKind } from "../audit/audit-record.js";
import type { AuditStreamHub } from "../audit/audit-stream-hub.js";
import { ALL_TENANTS } from "../auth/principal.js";
import { InvalidArgumentError, type FieldViolation } from "../domain/errors.js";
import type { AuditStore } from "../store/audit-store.js";
import { accessLogEntryToProto, auditEventToProto, auditKindFromProto, violationToProto } from "./audit-mapping.js";
import type { CallContext } from "./call-context.js";
import { requireTenant, visibleTenants } from "./call-principal.js";
import { frameworkMapping } from "./enum-mapping.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page-token.js";
import { registration, type ServiceRegistration } from "./service-handlers.js";

export interface AuditHandlerDeps {
  readonly store: AuditStore;
  readonly hub: AuditStreamHub;
}

/**
 * Reading, verifying and streaming the audit log. Tenant scoping: a caller sees the entries of its tenants only
 * (naming another tenant is PERMISSION_DENIED; "every tenant" means the caller's); verifying the chain reads
 * every tenant's entries, so it needs a caller that sees every tenant.
 */
export function auditHandlers(deps: AuditHandlerDeps): ServiceRegistration {
  const { store, hub } = deps;
  return registration(AuditService, {
    async listAccessLogs(request, context) {
      if (request.tenantId === "") throw invalid("tenant_id", "required", "tenant_id is required");
      requireTenant(context, request.tenantId);
      const limit = pageSizeOf(request.pageSize);
      const { start, end } = timeRange(request.startTime, request.endTime);
      const filter = JSON.stringify([request.tenantId, request.learnerId, start ?? null, end ?? null, request.allowed ?? null]);
      const position = decodePageToken(request.pageToken, filter);
      const rows = await store.listAccessLogs({
        tenantId: request.tenantId,
        learnerId: request.learnerId,
        start,
        end,
        allowed: request.allowed,
        limit: limit + 1,
        before: position ? { occurredAt: Number(position[0]), seq: Number(position[1]) } : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        entries: page.map(accessLogEntryToProto),
        nextPageToken: rows.length > limit && last ? encodePageToken(filter, [String(last.occurredAt), String(last.seq)]) : "",
      };
    },

    async listViolations(request, context) {
      const tenantIds = tenantScope(context, request.tenantId);
      const limit = pageSizeOf(request.pageSize);
      let framework: string | undefined;
      if (request.framework !== 0) {
        framework = frameworkMapping.fromProto(request.framework);
        if (framework === undefined) {
          throw invalid("framework", "enum_value", `framework has unknown value ${request.framework}; use one of ${frameworkMapping.names}`);
        }
      }
      const { start, end } = timeRange(request.startTime, request.endTime);
      const filter = JSON.stringify([request.tenantId, framework ?? null, start ?? null, end ?? null]);
      const position = decodePageToken(request.pageToken, filter);
      const rows = await store.listViolations({
        tenantIds,
        framework,
        start,
        end,
        limit: limit + 1,
        before: position ? { occurredAt: Number(position[0]), seq: Number(position[1]), idx: Number(position[2]) } : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        violations: page.map(violationToProto),
        nextPageToken:
          rows.length > limit && last ? encodePageToken(filter, [String(last.occurredAt), String(last.seq), String(last.idx)]) : "",
      };
    },

    async verifyAuditChain(request, context) {
      if (visibleTenants(context) !== ALL_TENANTS) {
        throw new ConnectError("verifying the audit chain reads every tenant's entries: it needs a caller that sees every tenant", Code.PermissionDenied);
      }
      const from = seqOf(request.fromSeq, "from_seq");
      const to = seqOf(request.toSeq, "to_seq");
      if (to !== 0 && to < Math.max(1, from)) throw invalid("to_seq", "range", "to_seq must be 0 (the head) or at least from_seq");
      const verdict = await verifyAuditChain(store, from, to);
      return {
        valid: verdict.valid,
        checked: BigInt(verdict.checked),
        headSeq: BigInt(verdict.headSeq),
        headHash: verdict.headHash,
        firstBadSeq: BigInt(verdict.firstBadSeq),
        problem: verdict.problem,
      };
    },

    async *streamAuditEvents(request, context) {
      const tenantIds = tenantScope(context, request.tenantId);
      const kinds = new Set<AuditKind>();
      for (const [i, number] of request.kinds.entries()) {
        const kind = auditKindFromProto(number);
        if (kind === undefined) throw invalid(`kinds[${i}]`, "enum_value", `kinds[${i}] has unknown value ${number}`);
        kinds.add(kind);
      }
      const filter = { tenantIds: tenantIds === undefined ? undefined : new Set(tenantIds), kinds };
      for await (const entry of hub.subscribe(filter, context.signal)) yield { event: auditEventToProto(entry) };
    },
  });
}

/** One named tenant (which the caller must see), else the caller's tenants; undefined means every tenant. */
function tenantScope(context: CallContext, tenantId: string): readonly string[] | undefined {
  if (tenantId !== "") {
    requireTenant(context, tenantId);
    return [tenantId];
  }
  const visible = visibleTenants(context);
  return visible === ALL_TENANTS ? undefined : visible;
}

function timeRange(startTime: Timestamp | undefined, endTime: Timestamp | undefined): { start?: number; end?: number } {
  const start = startTime === undefined ? undefined : timestampMs(startTime);
  const end = endTime === undefined ? undefined : timestampMs(endTime);
  if (start !== undefined && end !== undefined && end <= start) throw invalid("end_time", "range", "end_time must be after start_time");
  return { start, end };
}

function seqOf(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(field, "range", `${field} is beyond the largest sequence number`);
  return Number(value);
}

function invalid(field: string, rule: string, message: string): InvalidArgumentError {
  const violation: FieldViolation = { field, rule, message };
  return new InvalidArgumentError([violation]);
}
