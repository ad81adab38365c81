import { Code, ConnectError } from "@connectrpc/connect";
import { ALL_TENANTS, mayActForTenant, type Principal } from "../auth/principal.js";
import type { CallContext } from "./call-context.js";
import { callSlot } from "./call-slot.js";

const principals = callSlot<Principal>("principal");

/** Set by the auth middleware once the caller is authenticated and may call the method. */
export function bindPrincipal(context: CallContext, principal: Principal): void {
  principals.set(context, principal);
}

/** The authenticated caller of this call; undefined only where the auth middleware is not installed. */
export function principalOf(context: CallContext): Principal | undefined {
  return principals.get(context);
}

/** Whether the caller may see and act for this tenant. No caller: no tenant (fail closed). */
export function seesTenant(context: CallContext, tenantId: string): boolean {
  const principal = principals.get(context);
  return principal !== undefined && mayActForTenant(principal, tenantId);
}

/**
 * The tenants the caller may see: "*" for every tenant, else the list (possibly empty). Listings filter
 * with it, so that a caller never learns that another tenant exists.
 */
export function visibleTenants(context: CallContext): typeof ALL_TENANTS | readonly string[] {
  const principal = principals.get(context);
  if (principal === undefined) return [];
  return principal.tenants === ALL_TENANTS ? ALL_TENANTS : [...principal.tenants];
}

/**
 * PERMISSION_DENIED unless the caller may act for the tenant a call names. An empty id is left to the
 * handler's validation (it is INVALID_ARGUMENT there). The answer is the same whether or not the tenant
 * exists.
 */
export function requireTenant(context: CallContext, tenantId: string, field = "tenant_id"): void {
  requireTenants(context, [tenantId], () => field);
}

/** requireTenant for several ids at once (a batch): one PERMISSION_DENIED naming every refused item. */
export function requireTenants(context: CallContext, tenantIds: readonly string[], fieldOf: (index: number) => string): void {
  const principal = principals.get(context);
  if (principal === undefined) throw new ConnectError("no authenticated caller", Code.Unauthenticated);
  const { tenants } = principal;
  if (tenants === ALL_TENANTS) return;
  const refused: string[] = [];
  tenantIds.forEach((tenantId, i) => {
    if (tenantId !== "" && !tenants.has(tenantId)) refused.push(`${fieldOf(i)} "${tenantId}"`);
  });
  if (refused.length === 0) return;
  const shown = refused.length > 10 ? [...refused.slice(0, 10), `… ${refused.length - 10} more`] : refused;
  throw new ConnectError(
    `caller "${principal.subject}" may not act for ${shown.join(", ")}: not among the caller's tenants`,
    Code.PermissionDenied,
  );
}
