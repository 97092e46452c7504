// What a bulk send sends: the campaign (existing, or described inline), its content or template,
// its A/B variants and holdout, the provider choice. Resolved once at enqueue (templates rendered
// from their current version, recorded) and stored on bulk_sends.spec, so every worker sends the
// same thing whatever is edited later.
import { createHash } from "node:crypto";
import { UserError, canonicalJson, type DbHandle } from "@marketsage/core";
import type { Channel, ProviderName } from "../providers/types.ts";
import { CHANNEL_PROVIDERS } from "../providers/types.ts";
import { getTemplate } from "../queries/templates.ts";
import type { Values } from "../templates/render.ts";

export interface Content {
  subject?: string | undefined;
  text?: string | undefined;
  html?: string | undefined;
  whatsappTemplate?: { name: string; language: string; params: string[] } | undefined;
  templateId?: string | undefined;
}

export interface VariantInput extends Content {
  name: string;
  /** Share of the sent audience, percent (the variants' percents add up to 100). */
  percent: number;
}

export interface CampaignInput extends Content {
  name: string;
  channel: Channel;
  variables?: Values | undefined;
  variants?: VariantInput[] | undefined;
  /** Percent of the audience held out (never sent; the campaign's control group). */
  holdoutPercent?: number | undefined;
}

export interface ResolvedVariant {
  /** campaign_variants.id (null: the campaign has no variants). */
  id: string | null;
  name: string;
  /** Share of the sent audience, 0–1. */
  weight: number;
  content: Content;
  /** The template (and version) the content came from. */
  templateId: string | null;
  templateVersion: number | null;
}

export interface BulkSpec {
  campaignId: string;
  campaignName: string;
  /** The campaign existed before this send (else it is created with the send). */
  existing: boolean;
  channel: Channel;
  variants: ResolvedVariant[];
  /** 0–1. */
  holdout: number;
  variables: Record<string, string | number | null>;
  provider: ProviderName | "auto";
  trackLinks: boolean;
}

/** A stable uuid from text (the campaign of an inline send comes from its idempotency key: the dry run and the send agree). */
export function stableUuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** What makes two sends the same send: the resolved spec (content, variants, provider). */
export const specHash = (s: BulkSpec) => createHash("sha256").update(canonicalJson(s)).digest("hex");

async function resolveContent(db: DbHandle, orgId: string, channel: Channel, c: Content, where: string): Promise<{ content: Content; templateId: string | null; templateVersion: number | null }> {
  if (c.templateId) {
    if (c.text || c.html || c.subject || c.whatsappTemplate) throw new UserError(`${where}: give either template_id or the content (text, subject, html, whatsapp_template), not both.`);
    const t = await getTemplate(db, orgId, c.templateId);
    if (!t) throw new UserError(`${where}: no template ${c.templateId} in this organization: list_templates shows the ids.`);
    if (t.channel !== channel) throw new UserError(`${where}: template ${t.name} (v${t.version}) is for ${t.channel}, not ${channel}.`);
    return {
      content: { subject: t.subject ?? undefined, html: t.html ?? undefined, text: t.text ?? undefined, whatsappTemplate: t.whatsapp ?? undefined },
      templateId: t.id, templateVersion: t.version,
    };
  }
  const has = channel === "EMAIL" ? !!(c.text || c.html) : channel === "SMS" ? !!c.text : !!(c.text || c.whatsappTemplate);
  if (!has) {
    throw new UserError(`${where}: no content — give ${channel === "EMAIL" ? "subject and text and/or html" : channel === "SMS" ? "text" : "text or whatsapp_template"}, or a template_id.`);
  }
  if (channel !== "EMAIL" && (c.subject || c.html)) throw new UserError(`${where}: subject and html are for email; ${channel} sends text.`);
  if (channel !== "WHATSAPP" && c.whatsappTemplate) throw new UserError(`${where}: whatsapp_template is for WhatsApp.`);
  return { content: { subject: c.subject, text: c.text, html: c.html, whatsappTemplate: c.whatsappTemplate }, templateId: null, templateVersion: null };
}

type CampaignRow = { id: string; name: string; channel: Channel; status: string; subject: string | null; content: string | null };
type VariantRow = { id: string; name: string; subject: string | null; content: string | null; weight: number; is_control: boolean };

/**
 * The send's spec from the tool's input. Inline campaigns get a stable id from the idempotency key;
 * an existing campaign sends its own content and variants (it must not have been sent already).
 */
export async function resolveSpec(
  db: DbHandle, orgId: string,
  q: { campaignId?: string | undefined; campaign?: CampaignInput | undefined; provider?: ProviderName | "auto" | undefined; trackLinks: boolean; idempotencyKey: string },
): Promise<BulkSpec> {
  if (!!q.campaignId === !!q.campaign) throw new UserError("Give either campaign_id (an existing draft campaign) or campaign (name, channel and content), not both.");
  let channel: Channel;
  let variants: ResolvedVariant[];
  let holdout = 0;
  let name: string;
  let variables: Record<string, string | number | null> = {};
  let campaignId: string;
  if (q.campaignId) {
    const [c] = await db.$queryRaw<CampaignRow[]>`
      select id::text, name, channel::text as channel, status::text as status, subject, content from campaigns where id = ${q.campaignId}::uuid and organization_id = ${orgId}::uuid`;
    if (!c) throw new UserError(`no campaign ${q.campaignId} in this organization: list_campaigns (campaign-analytics) shows them, or describe the campaign inline.`);
    if (c.status !== "DRAFT" && c.status !== "SCHEDULED") throw new UserError(`campaign "${c.name}" is ${c.status.toLowerCase()}: only a draft or scheduled campaign can be sent. Describe a new campaign inline to send again.`);
    channel = c.channel;
    name = c.name;
    campaignId = c.id;
    const vs = await db.$queryRaw<VariantRow[]>`
      select id::text, name, subject, content, weight, is_control from campaign_variants where campaign_id = ${c.id}::uuid and organization_id = ${orgId}::uuid order by name`;
    const main: Content = channel === "EMAIL" ? { subject: c.subject ?? undefined, html: c.content ?? undefined } : { text: c.content ?? undefined };
    if (vs.length === 0) {
      variants = [{ id: null, name: "main", weight: 1, ...(await resolveContent(db, orgId, channel, main, `campaign "${c.name}"`)) }];
    } else {
      const total = vs.reduce((a, v) => a + v.weight, 0);
      variants = [];
      for (const v of vs) {
        const content: Content = channel === "EMAIL" ? { subject: v.subject ?? main.subject, html: v.content ?? main.html } : { text: v.content ?? main.text };
        variants.push({ id: v.id, name: v.name, weight: v.weight / total, ...(await resolveContent(db, orgId, channel, content, `variant "${v.name}"`)) });
      }
    }
  } else {
    const c = q.campaign!;
    channel = c.channel;
    name = c.name;
    campaignId = stableUuid("campaign", orgId, q.idempotencyKey);
    variables = Object.fromEntries(Object.entries(c.variables ?? {}).map(([k, v]) => [k, v ?? null]));
    holdout = (c.holdoutPercent ?? 0) / 100;
    if (c.variants?.length) {
      const sum = c.variants.reduce((a, v) => a + v.percent, 0);
      if (Math.abs(sum - 100) > 1e-9) throw new UserError(`the variants' percents add up to ${sum}, not 100: e.g. 50 and 50.`);
      const names = new Set<string>();
      variants = [];
      for (const v of c.variants) {
        if (names.has(v.name)) throw new UserError(`two variants are named "${v.name}": name each once.`);
        names.add(v.name);
        // A variant inherits the campaign's content for what it does not set (e.g. only a new subject).
        const merged: Content = v.templateId ? { templateId: v.templateId } : { subject: v.subject ?? c.subject, text: v.text ?? c.text, html: v.html ?? c.html, whatsappTemplate: v.whatsappTemplate ?? c.whatsappTemplate, templateId: v.text || v.html || v.subject || v.whatsappTemplate ? undefined : c.templateId };
        variants.push({ id: stableUuid("variant", campaignId, v.name), name: v.name, weight: v.percent / 100, ...(await resolveContent(db, orgId, channel, merged, `variant "${v.name}"`)) });
      }
    } else {
      variants = [{ id: null, name: "main", weight: 1, ...(await resolveContent(db, orgId, channel, c, `campaign "${c.name}"`)) }];
    }
  }
  const provider = q.provider ?? (channel === "SMS" ? "auto" : CHANNEL_PROVIDERS[channel][0]!);
  if (provider !== "auto" && !CHANNEL_PROVIDERS[channel].includes(provider)) throw new UserError(`${provider} does not send ${channel}: use ${CHANNEL_PROVIDERS[channel].join(" or ")}${channel === "SMS" ? ' or "auto"' : ""}.`);
  if (provider === "auto" && channel !== "SMS") throw new UserError(`provider "auto" routes SMS only; ${channel} is sent by ${CHANNEL_PROVIDERS[channel].join(", ")}.`);
  return { campaignId, campaignName: name, existing: !!q.campaignId, channel, variants, holdout, variables, provider, trackLinks: q.trackLinks };
}

/** A number in [0, 1) from the campaign and the contact: the same contact always lands in the same arm. */
export function armPoint(campaignId: string, contactId: string): number {
  const h = createHash("sha256").update(`${campaignId}:${contactId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/** The holdout, or the variant (index) a contact gets: deterministic by hash of campaign and contact. */
export function assignArm(spec: Pick<BulkSpec, "campaignId" | "holdout" | "variants">, contactId: string): { holdout: true } | { holdout: false; variant: number } {
  const u = armPoint(spec.campaignId, contactId);
  if (u < spec.holdout) return { holdout: true };
  // The rest of [holdout, 1) is split by the variants' weights.
  const v = (u - spec.holdout) / (1 - spec.holdout);
  let acc = 0;
  for (const [i, arm] of spec.variants.entries()) {
    acc += arm.weight;
    if (v < acc) return { holdout: false, variant: i };
  }
  return { holdout: false, variant: spec.variants.length - 1 };
}
