import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import type { ResidencyPolicy } from "../../gen/residency/v1/policy_pb.js";
import { InvalidArgumentError, type FieldViolation } from "../domain/errors.js";
import type { EmergencyOverrideService } from "../overrides/emergency-override-service.js";
import type { PolicyService } from "../policies/policy-service.js";
import type { RegionStatusService } from "../regions/region-status-service.js";
import { regionStatusMapping } from "./enum-mapping.js";
import { regionToProto } from "./region-mapping.js";
import { authorOf } from "./author.js";
import { requireTenant, seesTenant, visibleTenants } from "./call-principal.js";
import type { CallContext } from "./call-context.js";
import { overrideHandlers } from "./override-handlers.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page-token.js";
import { policyFieldsFromProto, policyToProto } from "./policy-mapping.js";
import { registration, type ServiceRegistration } from "./service-handlers.js";

/** Policy CRUD, region status and emergency overrides. Simulation is declared in the contract and answers UNIMPLEMENTED for now. */
export function adminHandlers(deps: {
  policies: PolicyService;
  regionStatus: RegionStatusService;
  /** Absent: the override RPCs answer UNIMPLEMENTED. */
  overrides?: EmergencyOverrideService;
}): ServiceRegistration {
  const { policies } = deps;
  return registration(AdminService, {
    ...(deps.overrides === undefined ? {} : overrideHandlers(deps.overrides)),
    async createPolicy(request, context) {
      const policy = requirePolicy(request.policy);
      const violations: FieldViolation[] = [];
      requireTenant(context, policy.tenantId, "policy.tenant_id");
      const fields = policyFieldsFromProto(policy, "policy", violations);
      const stored = await policies.create(fields, authorOf(context), violations);
      return { policy: policyToProto(stored) };
    },

    async getPolicy(request, context) {
      requireId(request.policyId, "policy_id");
      if (request.version < 0n) {
        throw new InvalidArgumentError([{ field: "version", rule: "range", message: "version must be 0 (current) or a positive version number" }]);
      }
      const version = request.version === 0n ? undefined : Number(request.version);
      const stored = await policies.get(request.policyId, version, visibility(context));
      return { policy: policyToProto(stored) };
    },

    async listPolicies(request, context) {
      const limit = pageSizeOf(request.pageSize);
      // Naming another tenant is refused; listing every tenant lists the caller's only.
      if (request.tenantId !== "") requireTenant(context, request.tenantId);
      const visible = visibleTenants(context);
      const position = decodePageToken(request.pageToken, request.tenantId);
      const after = position ? { tenantId: position[0] ?? "", learnerId: position[1] ?? "" } : undefined;
      // One extra row tells whether another page exists without a count query.
      const rows = await policies.list({ tenantId: request.tenantId, tenantIn: visible === "*" ? undefined : visible, limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        policies: page.map(policyToProto),
        nextPageToken: rows.length > limit && last ? encodePageToken(request.tenantId, [last.tenantId, last.learnerId]) : "",
      };
    },

    async updatePolicy(request, context) {
      const policy = requirePolicy(request.policy);
      requireId(policy.policyId, "policy.policy_id");
      requireVersion(request.expectedVersion);
      const violations: FieldViolation[] = [];
      const fields = policyFieldsFromProto(policy, "policy", violations);
      const stored = await policies.update(policy.policyId, fields, Number(request.expectedVersion), authorOf(context), violations, visibility(context));
      return { policy: policyToProto(stored) };
    },

    async setRegionStatus(request, context) {
      const status = regionStatusMapping.fromProto(request.status);
      const region = await deps.regionStatus.set(request.region, status, request.reason, authorOf(context));
      return { region: regionToProto(region) };
    },

    async deletePolicy(request, context) {
      requireId(request.policyId, "policy_id");
      requireVersion(request.expectedVersion);
      await policies.remove(request.policyId, Number(request.expectedVersion), authorOf(context), visibility(context));
      return {};
    },
  });
}

/** Another tenant's policy is answered like a missing one. */
function visibility(context: CallContext): (tenantId: string) => boolean {
  return (tenantId) => seesTenant(context, tenantId);
}

function requirePolicy(policy: ResidencyPolicy | undefined): ResidencyPolicy {
  if (policy === undefined) {
    throw new InvalidArgumentError([{ field: "policy", rule: "required", message: "policy is required" }]);
  }
  return policy;
}

function requireId(value: string, field: string): void {
  if (value === "") throw new InvalidArgumentError([{ field, rule: "required", message: `${field} is required` }]);
}

function requireVersion(version: bigint): void {
  if (version < 1n) {
    throw new InvalidArgumentError([
      { field: "expected_version", rule: "required", message: "expected_version is required: pass the version you read (1 or more)" },
    ]);
  }
}
