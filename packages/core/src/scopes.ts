import type { Role } from "@marketsage/db";

export const SCOPES = [
  "contacts:read",
  "contacts:write",
  "contacts:pii",
  "campaigns:read",
  "leadpulse:read",
  "leadpulse:write",
  "messages:read",
  "messages:send",
  "messages:override_quiet_hours",
  "monitoring:read",
  "monitoring:admin",
  "audit:read",
] as const;

export type Scope = (typeof SCOPES)[number];

const READ: Scope[] = ["contacts:read", "campaigns:read", "leadpulse:read", "messages:read", "monitoring:read"];

/** Each role is a set of scopes; this table is the only place that says which. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  USER: READ,
  AI_AGENT: [...READ, "contacts:write", "messages:send"],
  IT_ADMIN: [...READ, "monitoring:admin", "audit:read"],
  ADMIN: [...READ, "contacts:write", "contacts:pii", "leadpulse:write", "messages:send", "messages:override_quiet_hours", "monitoring:admin", "audit:read"],
  SUPER_ADMIN: [...SCOPES],
};

export function scopesFor(role: Role): ReadonlySet<Scope> {
  return new Set(ROLE_SCOPES[role]);
}

export function hasScopes(granted: ReadonlySet<Scope>, required: readonly Scope[]): boolean {
  return required.every((s) => granted.has(s));
}
