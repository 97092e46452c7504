// Which sessions a behaviour question is about: filters on the session (its device, country and
// source, and whether it was the visitor's first) and on its visitor (identified or not). Bots are
// always left out. The SQL reads the sessions alias `s` and the visitors alias `v`.
import { Prisma } from "@marketsage/db";
import type { OrgInfo } from "@marketsage/core";
import { DeviceTypeEnum } from "@marketsage/domain";
import { z } from "zod";

export const FILTER_DEFINITIONS =
  "Filters select sessions: device, country and source are the session's (source: UTM source, else referrer host, else " +
  "direct); new = the visitor's first session; identified = the visitor is linked to a contact.";

export const VisitorFilterShape = {
  device: DeviceTypeEnum.optional(),
  country: z.string().regex(/^[A-Za-z]{2}$/, { error: "a 2-letter country code such as NG" }).transform((c) => c.toUpperCase()).optional(),
  source: z.string().trim().min(1).max(200).transform((s) => s.toLowerCase()).optional().describe("e.g. google.com, whatsapp, direct"),
  visitor_type: z.enum(["new", "returning"]).optional(),
  identified: z.boolean().optional(),
};
const VisitorFilter = z.object(VisitorFilterShape);
export type VisitorFilter = z.output<typeof VisitorFilter>;

export const FilterEcho = z.object({
  device: z.string().nullable(),
  country: z.string().nullable(),
  source: z.string().nullable(),
  visitor_type: z.string().nullable(),
  identified: z.boolean().nullable(),
});
export const filterEcho = (f: VisitorFilter) => ({
  device: f.device ?? null, country: f.country ?? null, source: f.source ?? null, visitor_type: f.visitor_type ?? null, identified: f.identified ?? null,
});

/** The filters as conditions on sessions `s` joined to their visitor `v` (always: not a bot). */
export function filterSql(org: Pick<OrgInfo, "id">, f: VisitorFilter): Prisma.Sql {
  const where: Prisma.Sql[] = [Prisma.sql`not v.is_bot`];
  if (f.device) where.push(Prisma.sql`s.device = ${f.device}::"DeviceType"`);
  if (f.country) where.push(Prisma.sql`s.country = ${f.country}`);
  if (f.source) where.push(Prisma.sql`s.source = ${f.source}`);
  if (f.identified !== undefined) where.push(f.identified ? Prisma.sql`v.contact_id is not null` : Prisma.sql`v.contact_id is null`);
  if (f.visitor_type) {
    const earlier = Prisma.sql`exists (select 1 from visitor_sessions p where p.organization_id = ${org.id}::uuid and p.visitor_id = s.visitor_id
      and (p.started_at, p.id) < (s.started_at, s.id))`;
    where.push(f.visitor_type === "returning" ? earlier : Prisma.sql`not ${earlier}`);
  }
  return Prisma.join(where, " and ");
}

export const filtersText = (f: z.infer<typeof FilterEcho>): string => {
  const parts = Object.entries(f).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`);
  return parts.length ? `filters: ${parts.join(", ")}` : "no filters";
};
