/**
 * What a caller may do, as carried in a token's `roles` claim or granted to a client certificate. Which
 * RPC needs which role is declared once, in api/method-roles.ts.
 */
export const ROLES = [
  "service",
  "policy-admin",
  "auditor",
  "emergency-requester",
  "emergency-approver",
  "region-operator",
  "admin",
] as const;

export type Role = (typeof ROLES)[number];

const known: ReadonlySet<string> = new Set(ROLES);

export function isRole(value: string): value is Role {
  return known.has(value);
}
