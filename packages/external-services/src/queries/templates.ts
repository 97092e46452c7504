// Message templates: per channel, a name and numbered versions (saving a name again makes the next
// version; a message records the version it was sent with, so an edit never rewrites history).
//   EMAIL     subject + HTML and/or text part
//   SMS       text
//   WHATSAPP  an approved template's name, language and parameter mapping (each parameter a merge
//             text, e.g. "{{first_name}}" or "{{order_id | \"your order\"}}")
import { randomUUID } from "node:crypto";
import { Prisma } from "@marketsage/db";
import type { DbHandle } from "@marketsage/core";
import type { Channel } from "../providers/types.ts";
import { fieldsOf } from "../templates/render.ts";

export interface Template {
  id: string;
  channel: Channel;
  name: string;
  version: number;
  subject: string | null;
  html: string | null;
  text: string | null;
  whatsapp: { name: string; language: string; params: string[] } | null;
  createdAt: Date;
}

type Row = {
  id: string; channel: Channel; name: string; version: number; subject: string | null; html: string | null; text: string | null;
  whatsapp_template: string | null; whatsapp_language: string | null; whatsapp_params: string[] | null; created_at: Date;
};

const toTemplate = (r: Row): Template => ({
  id: r.id, channel: r.channel, name: r.name, version: r.version, subject: r.subject, html: r.html, text: r.text,
  whatsapp: r.whatsapp_template ? { name: r.whatsapp_template, language: r.whatsapp_language ?? "en", params: r.whatsapp_params ?? [] } : null,
  createdAt: r.created_at,
});

const COLS = Prisma.sql`id, channel::text as channel, name, version, subject, html, text, whatsapp_template, whatsapp_language, whatsapp_params, created_at`;

/** The merge fields a template uses (each part's), with declared defaults. */
export function templateFields(t: Pick<Template, "subject" | "html" | "text" | "whatsapp">): Array<{ field: string; fallback: string | undefined }> {
  const all = [t.subject, t.html, t.text, ...(t.whatsapp?.params ?? [])].flatMap((s) => (s ? fieldsOf(s) : []));
  const seen = new Map<string, string | undefined>();
  for (const f of all) if (!seen.has(f.field) || (seen.get(f.field) === undefined && f.fallback !== undefined)) seen.set(f.field, f.fallback);
  return [...seen].map(([field, fallback]) => ({ field, fallback }));
}

export async function saveTemplate(
  db: DbHandle,
  orgId: string,
  userId: string | null,
  t: Omit<Template, "id" | "version" | "createdAt">,
): Promise<Template> {
  // One writer per (organization, channel, name) at a time: the next version number is taken under the lock.
  await db.$executeRaw`select pg_advisory_xact_lock(hashtextextended(${`${orgId}:${t.channel}:${t.name}`}, 0))`;
  const [r] = await db.$queryRaw<Row[]>`
    insert into message_templates (id, organization_id, channel, name, version, subject, html, text, whatsapp_template, whatsapp_language, whatsapp_params, created_by_id)
    select ${randomUUID()}::uuid, ${orgId}::uuid, ${t.channel}::"Channel", ${t.name},
           coalesce((select max(version) from message_templates where organization_id = ${orgId}::uuid and channel = ${t.channel}::"Channel" and name = ${t.name}), 0) + 1,
           ${t.subject}, ${t.html}, ${t.text}, ${t.whatsapp?.name ?? null}, ${t.whatsapp?.language ?? null}, ${t.whatsapp ? JSON.stringify(t.whatsapp.params) : null}::jsonb, ${userId}::uuid
    returning ${COLS}`;
  return toTemplate(r!);
}

/** A template by id (any version), this organization's. */
export async function getTemplate(db: DbHandle, orgId: string, id: string): Promise<Template | null> {
  const [r] = await db.$queryRaw<Row[]>`select ${COLS} from message_templates where organization_id = ${orgId}::uuid and id = ${id}::uuid`;
  return r ? toTemplate(r) : null;
}

export interface ListedTemplate extends Template {
  versions: number;
}

/** The latest version of each template name, newest first. */
export async function listTemplates(db: DbHandle, orgId: string, q: { channel?: Channel | undefined; name?: string | undefined; limit: number }): Promise<ListedTemplate[]> {
  const rows = await db.$queryRaw<Array<Row & { versions: number }>>`
    select * from (
      select distinct on (channel, name) ${COLS}, count(*) over (partition by channel, name)::int as versions
        from message_templates
       where organization_id = ${orgId}::uuid
         and (${q.channel ?? null}::text is null or channel::text = ${q.channel ?? null})
         and (${q.name ?? null}::text is null or name ilike '%' || ${q.name ?? null} || '%')
       order by channel, name, version desc) t
    order by created_at desc, name limit ${q.limit}`;
  return rows.map((r) => ({ ...toTemplate(r), versions: r.versions }));
}
