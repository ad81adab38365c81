import type { DescMethod } from "@bufbuild/protobuf";
import { ROLES, type Role } from "../auth/roles.js";

/** ListRegions is readable by every authenticated role. */
const EVERY_ROLE: readonly Role[] = ROLES;

/**
 * Which roles may call which RPC: the one place it is declared. `admin` may call everything and is not
 * repeated. A method missing here is admin-only (fail closed); a test checks that every method of the
 * three services is listed. Tenant scoping is separate: handlers check the tenants a call names.
 */
export const METHOD_ROLES: Readonly<Record<string, Readonly<Record<string, readonly Role[]>>>> = {
  "residency.v1.ResidencyService": {
    ResolveAccess: ["service"],
    BatchResolveAccess: ["service"],
    GetEffectivePolicy: ["service"],
    PresignObjectUrl: ["service"],
    ListRegions: EVERY_ROLE,
  },
  "residency.v1.AdminService": {
    CreatePolicy: ["policy-admin"],
    GetPolicy: ["policy-admin"],
    ListPolicies: ["policy-admin"],
    UpdatePolicy: ["policy-admin"],
    DeletePolicy: ["policy-admin"],
    SimulatePolicyChange: ["policy-admin"],
    RequestEmergencyOverride: ["emergency-requester"],
    ApproveEmergencyOverride: ["emergency-approver"],
    RevokeEmergencyOverride: ["emergency-approver"],
    ListEmergencyOverrides: ["emergency-requester", "emergency-approver"],
    SetRegionStatus: ["region-operator"],
  },
  "residency.v1.AuditService": {
    ListAccessLogs: ["auditor"],
    ListViolations: ["auditor"],
    VerifyAuditChain: ["auditor"],
    StreamAuditEvents: ["auditor"],
  },
};

/** The roles that may call `method`, admin included. */
export function rolesFor(method: DescMethod): readonly Role[] {
  const listed = METHOD_ROLES[method.parent.typeName]?.[method.name] ?? [];
  return listed.includes("admin") ? listed : [...listed, "admin"];
}
