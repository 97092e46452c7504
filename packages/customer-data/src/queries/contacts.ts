// Contact reads shared by the customer-data tools. Every query filters by organization.
import { Prisma } from "@marketsage/db";
import { NotFoundError, UserError, type DbHandle, type OrgInfo, type PiiPolicy } from "@marketsage/core";
import type { CustomerRefInput, CustomerSummary } from "../schemas.ts";
import { toE164 } from "../phone.ts";

export interface ContactRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  country: string;
  city: string | null;
  time_zone: string;
  status: CustomerSummary["status"];
  tags: string[];
  source: string | null;
  created_at: Date;
  updated_at: Date;
}

export const CONTACT_COLUMNS = Prisma.sql`c.id::text, c.first_name, c.last_name, c.email, c.phone, c.company, trim(c.country) as country, c.city,
  c.time_zone, c.status::text as status, c.tags, c.source, c.created_at, c.updated_at`;

export function summarize(row: ContactRow, pii: PiiPolicy): CustomerSummary {
  return {
    id: row.id,
    first_name: row.first_name,
    last_name: row.last_name,
    email: pii.email(row.email),
    phone: pii.phone(row.phone),
    company: row.company,
    country: row.country,
    city: row.city,
    status: row.status,
    tags: row.tags,
    created_at: row.created_at.toISOString(),
  };
}

/** Find one contact of the organization by id, email or phone. */
export async function findContact(db: DbHandle, org: OrgInfo, ref: CustomerRefInput): Promise<ContactRow> {
  let where: Prisma.Sql;
  if (ref.id) where = Prisma.sql`c.id = ${ref.id}::uuid`;
  else if (ref.email) where = Prisma.sql`c.email = ${ref.email.trim().toLowerCase()}`; // stored lower-case
  else {
    const e164 = toE164(ref.phone ?? "", org.defaultCountry);
    if (!e164) throw new UserError(`"${ref.phone}" is not a phone number we can read. Use international format, e.g. +234 803 123 4567.`);
    where = Prisma.sql`c.phone = ${e164}`;
  }
  const rows = await db.$queryRaw<ContactRow[]>`select ${CONTACT_COLUMNS} from contacts c where c.organization_id = ${org.id}::uuid and ${where} limit 1`;
  if (!rows[0]) throw new NotFoundError(ref.id ? `Customer ${ref.id}` : ref.email ? `A customer with that email` : `A customer with that phone`);
  return rows[0];
}

/**
 * Reachable now, as bits (1 email, 2 SMS, 4 WhatsApp: address present, ACTIVE, subscribed), for the
 * contact alias `c`: the database's marketsage_reach, the same function the member-state triggers use.
 */
export const REACH_BITS = Prisma.sql`marketsage_reach(c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp)`;

/** Rows counted per reachable channel, `email, sms, whatsapp`, from a reach-bits expression. */
export const reachCounts = (bits: Prisma.Sql) =>
  Prisma.sql`count(*) filter (where ((${bits}) & 1) <> 0)::int as email, count(*) filter (where ((${bits}) & 2) <> 0)::int as sms,
    count(*) filter (where ((${bits}) & 4) <> 0)::int as whatsapp`;

/** `e_ok, s_ok, w_ok` booleans from a reach-bits expression. */
export const reachFlags = (bits: Prisma.Sql) =>
  Prisma.sql`((${bits}) & 1) <> 0 as e_ok, ((${bits}) & 2) <> 0 as s_ok, ((${bits}) & 4) <> 0 as w_ok`;
