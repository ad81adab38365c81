import type { Role } from "./roles.js";

/** Every tenant, from a `tenants: ["*"]` claim. */
export const ALL_TENANTS = "*";

/** A verified caller: who it is, what it may do, and for which tenants. */
export interface Principal {
  /** The actor recorded on writes and in logs: a token's `sub`, or `mtls:<CN>` for a client certificate. */
  readonly subject: string;
  /** Known roles only; unknown role names in a token are ignored. */
  readonly roles: ReadonlySet<Role>;
  /** The tenants it may act for, or ALL_TENANTS. */
  readonly tenants: typeof ALL_TENANTS | ReadonlySet<string>;
  /** How it proved who it is. */
  readonly via: "jwt" | "mtls";
}

/** The tenants claim as a principal holds it: "*" anywhere in the list means every tenant. */
export function tenantScope(tenants: readonly string[]): Principal["tenants"] {
  return tenants.includes(ALL_TENANTS) ? ALL_TENANTS : new Set(tenants);
}

export function mayActForTenant(principal: Principal, tenantId: string): boolean {
  return principal.tenants === ALL_TENANTS || principal.tenants.has(tenantId);
}
