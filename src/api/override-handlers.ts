import type { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { InvalidArgumentError } from "../domain/errors.js";
import type { EmergencyOverrideService } from "../overrides/emergency-override-service.js";
import { authorOf } from "./author.js";
import { requireTenant, seesTenant, visibleTenants } from "./call-principal.js";
import type { CallContext } from "./call-context.js";
import { overrideToProto } from "./override-mapping.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page-token.js";
import type { ServiceHandlers } from "./service-handlers.js";

type OverrideHandlers = Pick<
  ServiceHandlers<typeof AdminService>,
  "requestEmergencyOverride" | "approveEmergencyOverride" | "revokeEmergencyOverride" | "listEmergencyOverrides"
>;

/**
 * The AdminService's emergency override RPCs. Roles come from method-roles.ts; tenants are checked here: naming
 * another tenant is PERMISSION_DENIED, another tenant's override by id is NOT_FOUND like a missing one.
 */
export function overrideHandlers(overrides: EmergencyOverrideService): OverrideHandlers {
  return {
    async requestEmergencyOverride(request, context) {
      requireTenant(context, request.tenantId);
      const override = await overrides.request(
        {
          tenantId: request.tenantId,
          reason: request.reason,
          affectedLearners: request.affectedLearners,
          sourceRegion: request.sourceRegion,
          targetRegion: request.targetRegion,
          durationHours: request.durationHours,
        },
        authorOf(context),
      );
      return { override: overrideToProto(override) };
    },

    async approveEmergencyOverride(request, context) {
      const override = await overrides.approve(request.overrideId, authorOf(context), request.comment, visibility(context));
      return { override: overrideToProto(override) };
    },

    async revokeEmergencyOverride(request, context) {
      const override = await overrides.revoke(request.overrideId, request.reason, authorOf(context), visibility(context));
      return { override: overrideToProto(override) };
    },

    async listEmergencyOverrides(request, context) {
      const limit = pageSizeOf(request.pageSize);
      // Naming another tenant is refused; listing every tenant lists the caller's only.
      if (request.tenantId !== "") requireTenant(context, request.tenantId);
      const visible = visibleTenants(context);
      const filter = `${request.tenantId}|${request.includeInactive ? "all" : "open"}`;
      const position = decodePageToken(request.pageToken, filter);
      const after = position === undefined ? undefined : cursorOf(position);
      // One extra row tells whether another page exists without a count query.
      const rows = await overrides.list({
        tenantId: request.tenantId,
        tenantIn: visible === "*" ? undefined : visible,
        includeInactive: request.includeInactive,
        limit: limit + 1,
        after,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        overrides: page.map(overrideToProto),
        nextPageToken: rows.length > limit && last ? encodePageToken(filter, [String(last.requestedAt), last.overrideId]) : "",
      };
    },
  };
}

/** Another tenant's override is answered like a missing one. */
function visibility(context: CallContext): (tenantId: string) => boolean {
  return (tenantId) => seesTenant(context, tenantId);
}

function cursorOf(position: readonly string[]): { requestedAt: number; overrideId: string } {
  const [requestedAt, overrideId] = position;
  if (position.length !== 2 || !/^\d+$/.test(requestedAt ?? "") || overrideId === undefined) {
    throw new InvalidArgumentError([
      { field: "page_token", rule: "page_token", message: "page_token is not a token this service issued; pass the next_page_token of the previous page unchanged" },
    ]);
  }
  return { requestedAt: Number(requestedAt), overrideId };
}
