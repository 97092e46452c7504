// save_template and list_templates: reusable content per channel with merge fields.
import { defineTool, lines, UserError } from "@marketsage/core";
import { z } from "zod";
import { listTemplates, saveTemplate, templateFields, type Template } from "../queries/templates.ts";
import { TemplateSyntaxError } from "../templates/render.ts";
import { smsShape } from "../validate/sms.ts";
import { ChannelInput, WhatsAppTemplateInput } from "./shared.ts";

const TemplateOut = z.object({
  id: z.string(),
  channel: z.string(),
  name: z.string(),
  version: z.number().int(),
  versions: z.number().int(),
  subject: z.string().nullable(),
  text: z.string().nullable(),
  html_bytes: z.number().int().nullable(),
  whatsapp_template: z.object({ name: z.string(), language: z.string(), params: z.array(z.string()) }).nullable(),
  fields: z.array(z.object({ field: z.string(), default: z.string().nullable() })),
  created_at: z.string(),
});

const out = (t: Template & { versions?: number }) => ({
  id: t.id, channel: t.channel, name: t.name, version: t.version, versions: t.versions ?? t.version,
  subject: t.subject, text: t.text, html_bytes: t.html === null ? null : Buffer.byteLength(t.html), whatsapp_template: t.whatsapp,
  fields: templateFields(t).map((f) => ({ field: f.field, default: f.fallback ?? null })), created_at: t.createdAt.toISOString(),
});
const line = (t: z.infer<typeof TemplateOut>) =>
  `- ${t.name} version ${t.version} of ${t.versions} [${t.channel}] id ${t.id}, saved ${t.created_at}: ` +
  (t.whatsapp_template ? `WhatsApp template ${t.whatsapp_template.name} (${t.whatsapp_template.language}), ${t.whatsapp_template.params.length} parameter(s)` : `${t.subject ? `subject "${t.subject}"; ` : ""}${t.text ? `text "${t.text.length > 80 ? `${t.text.slice(0, 80)}…` : t.text}"` : ""}${t.html_bytes !== null ? `; HTML ${t.html_bytes} bytes` : ""}`) +
  `; fields: ${t.fields.length ? t.fields.map((f) => (f.default !== null ? `${f.field} (default "${f.default}")` : f.field)).join(", ") : "none"}`;

export const saveTemplateTool = defineTool({
  name: "save_template",
  title: "Save a message template",
  description:
    "Save content for a channel: EMAIL subject + html/text; SMS text; WHATSAPP an approved template (name, language, " +
    'params). Merge fields {{first_name}} or {{city | "default"}}. The same name again is a new version.',
  scopes: ["messages:send"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    channel: ChannelInput,
    name: z.string().trim().min(2).max(100),
    subject: z.string().min(1).max(255).optional(),
    text: z.string().min(1).max(100_000).optional(),
    html: z.string().min(1).max(500_000).optional(),
    whatsapp_template: WhatsAppTemplateInput.optional(),
  }),
  output: TemplateOut,
  handler: async (i, ctx) => {
    const bad = (m: string) => {
      throw new UserError(m);
    };
    if (i.channel === "EMAIL") {
      if (!i.subject) bad("An email template needs a subject.");
      if (!i.text && !i.html) bad("An email template needs a text part, an HTML part, or both.");
      if (i.whatsapp_template) bad("whatsapp_template is for WHATSAPP templates.");
    } else if (i.channel === "SMS") {
      if (!i.text) bad("An SMS template needs text.");
      if (i.subject || i.html || i.whatsapp_template) bad("An SMS template has text only.");
      if (smsShape(i.text!).segments > 10) bad("The SMS text is over 10 segments: shorten it.");
    } else {
      if (!i.whatsapp_template && !i.text) bad("A WhatsApp template needs whatsapp_template (an approved template) or text (for replies inside the 24-hour window).");
      if (i.subject || i.html) bad("A WhatsApp template has no subject or HTML.");
    }
    const t = { channel: i.channel, name: i.name, subject: i.subject ?? null, html: i.html ?? null, text: i.text ?? null, whatsapp: i.whatsapp_template ?? null };
    try {
      templateFields(t);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw new UserError(e.message);
      throw e;
    }
    return out(await saveTemplate(ctx.db, ctx.org.id, ctx.principal.userId, t));
  },
  render: (o) => lines(`Saved template ${o.name} (${o.channel}), id ${o.id}. Send it with template_id ${o.id} and variables for fields the contact lacks.`, line(o)),
});

export const listTemplatesTool = defineTool({
  name: "list_templates",
  title: "List message templates",
  description: "Saved templates (the latest version of each name), newest first, with their merge fields and defaults.",
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    channel: ChannelInput.optional(),
    name: z.string().trim().min(1).max(100).optional().describe("Part of the name."),
    limit: z.number().int().min(1).max(100).default(20),
  }),
  output: z.object({ templates: z.array(TemplateOut) }),
  handler: async (i, ctx) => ({ templates: (await listTemplates(ctx.db, ctx.org.id, { channel: i.channel, name: i.name, limit: i.limit })).map(out) }),
  render: (o) => (o.templates.length ? lines(`${o.templates.length} template(s):`, o.templates.map(line)) : "No templates saved (save_template makes one)."),
});
