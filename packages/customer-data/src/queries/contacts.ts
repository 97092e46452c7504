// Contact output shared by the customer-data tools. The row, its columns and the lookup by
// reference are @marketsage/domain's (every server names a customer the same way).
import type { PiiPolicy } from "@marketsage/core";
import type { ContactRow } from "@marketsage/domain";
import type { CustomerSummary } from "../schemas.ts";

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
