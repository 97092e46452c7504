// send_bulk, get_bulk_send_status, cancel_bulk_send: a campaign to a segment or a list as a
// durable job (bulk/). The dry run returns the numbers and a confirmation token; the send
// enqueues (in one transaction) and, with wait_seconds, reports progress until done or the wait ends.
import { defineTool, lines, UserError, type ToolContext } from "@marketsage/core";
import { z } from "zod";
import { bulkConfig, type BulkConfig } from "../bulk/config.ts";
import { CHANNEL_PROVIDERS } from "../providers/types.ts";
import { campaignUrls } from "../tracking/links.ts";
import { processEnv } from "../config.ts";
import { confirmationToken, enqueueSend, prepareSend, type Estimate } from "../bulk/enqueue.ts";
import { bulkStatus, cancelBulkSend, type BulkStatus } from "../bulk/status.ts";
import { ChannelInput, Variables, WhatsAppTemplateInput, serviceOf } from "./shared.ts";

const configs = new WeakMap<object, BulkConfig>();
const cfgOf = (ctx: ToolContext): BulkConfig => {
  const svc = serviceOf(ctx);
  let c = configs.get(svc);
  if (!c) configs.set(svc, (c = bulkConfig(processEnv())));
  return c;
};

const Content = {
  subject: z.string().min(1).max(255).optional(),
  text: z.string().min(1).max(100_000).optional(),
  html: z.string().min(1).max(500_000).optional(),
  whatsapp_template: WhatsAppTemplateInput.optional(),
  template_id: z.uuid().optional(),
};

const CampaignIn = z.object({
  name: z.string().trim().min(1).max(200),
  channel: ChannelInput,
  ...Content,
  variables: Variables,
  variants: z.array(z.object({ name: z.string().trim().min(1).max(60), percent: z.number().gt(0).max(100), subject: Content.subject, text: Content.text, html: Content.html })).min(2).max(5).optional().describe("A/B: percents add to 100."),
  holdout_percent: z.number().min(0).max(50).optional(),
});

const Key = z.string().trim().regex(/^[A-Za-z0-9._:-]{8,128}$/, { error: "8–128 of A-Za-z0-9._:-" });

const StatusOut = z.object({
  bulk_send_id: z.string(),
  campaign_id: z.string(),
  campaign: z.string(),
  status: z.string(),
  total: z.number().int(),
  done: z.number().int(),
  states: z.record(z.string(), z.number().int()),
  delivery: z.record(z.string(), z.number().int()),
  per_second: z.number(),
  eta_seconds: z.number().int().nullable(),
  next_deferred_at: z.string().nullable(),
  errors: z.array(z.string()),
  workers_alive: z.number().int(),
  next: z.string(),
});
type StatusOut = z.infer<typeof StatusOut>;

function statusOut(s: BulkStatus): StatusOut {
  const open = (s.states.pending ?? 0) + (s.states.deferred ?? 0) + (s.states.claimed ?? 0);
  const next =
    s.status === "completed" || s.status === "cancelled"
      ? "Finished. get_campaign_metrics (campaign-analytics) shows deliveries, opens and clicks as reports arrive."
      : s.workersAlive === 0
        ? "No bulk-send worker is running: start one (`pnpm worker`, or the HTTP host with MARKETSAGE_WORKER=1); the send resumes where it is."
        : open && !(s.states.pending ?? 0) && (s.states.deferred ?? 0)
          ? `Waiting for quiet hours to end; next recipients at ${s.nextDeferredAt?.toISOString() ?? "?"}.`
          : "In progress: check again, or cancel_bulk_send to stop the rest.";
  return {
    bulk_send_id: s.id, campaign_id: s.campaignId, campaign: s.campaignName, status: s.status, total: s.total, done: s.done, states: s.states, delivery: s.delivery,
    per_second: s.perSecond, eta_seconds: s.etaSeconds, next_deferred_at: s.nextDeferredAt?.toISOString() ?? null,
    errors: s.errors.map((e) => `${e.reason}: ${e.count}`), workers_alive: s.workersAlive, next,
  };
}

const kv = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v.toLocaleString("en")}`).join(", ") || "none";

function renderStatus(o: StatusOut): string {
  return lines(
    `Bulk send ${o.bulk_send_id} (campaign "${o.campaign}", ${o.campaign_id}): ${o.status}, ${o.done.toLocaleString("en")} of ${o.total.toLocaleString("en")} recipients done.`,
    `Recipients: ${kv(o.states)}. Messages: ${kv(o.delivery)}.`,
    `${o.per_second} sends/s over the last minute${o.eta_seconds !== null ? `; about ${o.eta_seconds} s left` : ""}${o.next_deferred_at ? `; deferred until ${o.next_deferred_at}` : ""}; workers alive: ${o.workers_alive}.`,
    o.errors.length ? `Not sent, by reason: ${o.errors.join("; ")}.` : "",
    o.next,
  );
}

const EstimateOut = z.object({
  recipients: z.number().int(),
  will_send: z.number().int(),
  deferred: z.number().int(),
  deferred_until: z.string().nullable(),
  holdout: z.number().int(),
  refused: z.array(z.string()),
  variants: z.array(z.string()),
  cost: z.array(z.string()),
  cost_reporting: z.string().nullable(),
});

function estimateOut(e: Estimate): z.infer<typeof EstimateOut> {
  return {
    recipients: e.recipients, will_send: e.willSend, deferred: e.deferred, deferred_until: e.deferredUntil ? `${e.deferredUntil.first} – ${e.deferredUntil.last}` : null, holdout: e.holdout,
    refused: Object.entries(e.refused).map(([k, v]) => `${k}: ${v}`),
    variants: e.byVariant.map((v) => `${v.name}: ${v.recipients}`),
    cost: e.cost.map((c) => `${c.provider}: ${c.amount} ${c.currency} for ${c.messages} messages`).concat(e.unpriced ? [`${e.unpriced} without a rate (cost unknown)`] : []),
    cost_reporting: e.costReporting ? `${e.costReporting.amount.toFixed(2)} ${e.costReporting.currency}` : null,
  };
}

const SendBulkOut = z.object({
  dry_run: z.boolean(),
  bulk_send_id: z.string().nullable(),
  campaign_id: z.string(),
  replayed: z.boolean(),
  estimate: EstimateOut,
  needs_confirmation: z.string().nullable(),
  confirmation_token: z.string().nullable(),
  token_expires_at: z.string().nullable(),
  progress: StatusOut.nullable(),
  next: z.string(),
});
type SendBulkOut = z.infer<typeof SendBulkOut>;

function renderSendBulk(o: SendBulkOut): string {
  const e = o.estimate;
  return lines(
    o.dry_run ? `Dry run (nothing sent) for campaign ${o.campaign_id}:` : `${o.replayed ? "Already enqueued with this idempotency key: " : "Enqueued "}bulk send ${o.bulk_send_id} (campaign ${o.campaign_id}).`,
    `${e.recipients.toLocaleString("en")} recipients: ${e.will_send.toLocaleString("en")} send now, ${e.deferred.toLocaleString("en")} deferred by quiet hours${e.deferred_until ? ` (${e.deferred_until})` : ""}, ${e.holdout} held out, refused: ${e.refused.join(", ") || "none"}.`,
    `By variant: ${e.variants.join(", ")}.`,
    `Estimated cost: ${e.cost.join("; ") || "none"}${e.cost_reporting ? ` (≈ ${e.cost_reporting})` : ""}.`,
    o.needs_confirmation ? `Needs confirmation: ${o.needs_confirmation}.` : "",
    o.confirmation_token ? `confirmation_token: ${o.confirmation_token} (until ${o.token_expires_at})` : "",
    o.progress ? renderStatus(o.progress) : "",
    o.next,
  );
}

function confirmQuestion(name: string, channel: string, e: z.infer<typeof EstimateOut>, why: string): string {
  return lines(
    `Send the ${channel} campaign "${name}" now? It needs your confirmation (${why}).`,
    `${e.recipients.toLocaleString("en")} recipients: ${e.will_send.toLocaleString("en")} now, ${e.deferred.toLocaleString("en")} later (quiet hours), ${e.holdout} held out, not sent: ${e.refused.join(", ") || "none"}.`,
    `Estimated cost: ${e.cost.join("; ") || "none"}${e.cost_reporting ? ` (≈ ${e.cost_reporting})` : ""}.`,
  );
}

export const sendBulk = defineTool({
  name: "send_bulk",
  title: "Send a campaign to a segment",
  description:
    "Send a campaign (a draft's campaign_id, or inline) to a segment or contact_ids as a durable job. dry_run first: " +
    "counts, cost, and the confirmation_token large sends need.",
  scopes: ["messages:send"],
  transaction: "own",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({
    campaign_id: z.uuid().optional(),
    campaign: CampaignIn.optional(),
    segment_id: z.uuid().optional(),
    contact_ids: z.array(z.uuid()).min(1).max(1000).optional(),
    provider: z.enum(["auto", "africastalking", "twilio", "smtp", "whatsapp"]).optional(),
    track_links: z.boolean().default(true),
    idempotency_key: Key.describe("Reused: the first send, no second."),
    dry_run: z.boolean().default(false),
    confirmation_token: z.string().max(100).optional(),
    wait_seconds: z.number().int().min(0).max(600).default(0),
  }),
  output: SendBulkOut,
  handler: async (i, ctx) => {
    const svc = serviceOf(ctx);
    const cfg = cfgOf(ctx);
    const db = ctx.client!;
    const now = ctx.now();
    const req = {
      campaignId: i.campaign_id,
      campaign: i.campaign && {
        name: i.campaign.name, channel: i.campaign.channel, subject: i.campaign.subject, text: i.campaign.text, html: i.campaign.html, whatsappTemplate: i.campaign.whatsapp_template,
        templateId: i.campaign.template_id, variables: i.campaign.variables, holdoutPercent: i.campaign.holdout_percent,
        variants: i.campaign.variants?.map((v) => ({ name: v.name, percent: v.percent, subject: v.subject, text: v.text, html: v.html, whatsappTemplate: undefined, templateId: undefined })),
      },
      segmentId: i.segment_id, contactIds: i.contact_ids, provider: i.provider, trackLinks: i.track_links, idempotencyKey: i.idempotency_key, confirmationToken: i.confirmation_token,
    };
    const p = await prepareSend(db, ctx.org, cfg, svc.config.smsOrder, req, now, svc.trackingBase());
    if (p.spec.channel === "EMAIL" && svc.config.smtp.mode === "live" && !svc.config.publicUrl) {
      throw new UserError("Campaign email carries an unsubscribe link and open/click tracking answered by the HTTP host: set MESSAGING_PUBLIC_URL (the host's public https URL) before sending campaign email.");
    }
    if (p.spec.channel !== "EMAIL" && p.spec.trackLinks && !svc.config.publicUrl && CHANNEL_PROVIDERS[p.spec.channel].some((n) => svc.config[n].mode === "live")
      && campaignUrls(p.spec.variants.flatMap((v) => [v.content.text])).length > 0) {
      throw new UserError("track_links turns the campaign's links into short links answered by the HTTP host: set MESSAGING_PUBLIC_URL (the host's public https URL), or send with track_links: false.");
    }
    const estimate = estimateOut(p.estimate);
    if (i.dry_run) {
      const t = await confirmationToken(db, ctx.org.id, p.spec, p.audience, now);
      return {
        dry_run: true, bulk_send_id: null, campaign_id: p.spec.campaignId, replayed: false, estimate, needs_confirmation: p.needsConfirmation.yes ? p.needsConfirmation.why : null,
        confirmation_token: t.token, token_expires_at: t.expiresAt.toISOString(), progress: null,
        next: p.needsConfirmation.yes
          ? "Show these numbers to the person; if they agree, call send_bulk again with the same arguments, dry_run false and this confirmation_token."
          : "Call send_bulk again with dry_run false to send (no confirmation needed at this size).",
      };
    }
    // A large or costly send without a token: where the client can ask the person (elicitation),
    // the server asks with the dry run's numbers; a yes is a fresh token for exactly this estimate.
    let askedPerson = false;
    if (p.needsConfirmation.yes && !req.confirmationToken && ctx.elicit) {
      const ans = await ctx.elicit(confirmQuestion(p.spec.campaignName, p.spec.channel, estimate, p.needsConfirmation.why), {
        type: "object", properties: { confirm: { type: "boolean", title: "Send it", description: "Yes: enqueue the send now." } }, required: ["confirm"],
      });
      if (ans.action !== "accept" || ans.content?.confirm !== true) {
        throw new UserError(`Not sent: the person ${ans.action === "accept" ? "did not confirm" : ans.action === "decline" ? "declined" : "dismissed"} the send to ${estimate.recipients.toLocaleString("en")} recipients. Nothing was enqueued.`, { reason: "not_confirmed" });
      }
      req.confirmationToken = (await confirmationToken(db, ctx.org.id, p.spec, p.audience, now)).token;
      askedPerson = true;
    }
    const q = await enqueueSend(db, ctx.org, cfg, p, req, ctx.principal, now);
    let s = await bulkStatus(db, ctx.org.id, q.bulkSendId, ctx.now());
    const until = Date.now() + i.wait_seconds * 1000;
    while (i.wait_seconds > 0 && s.status !== "completed" && s.status !== "cancelled" && Date.now() < until && !ctx.signal.aborted) {
      await ctx.progress(s.done, s.total, `${s.done} of ${s.total} done (${s.states.sent ?? 0} sent)`);
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, until - Date.now()))));
      s = await bulkStatus(db, ctx.org.id, q.bulkSendId, ctx.now());
    }
    if (i.wait_seconds > 0) await ctx.progress(s.done, s.total, `${s.done} of ${s.total} done`);
    return {
      dry_run: false, bulk_send_id: q.bulkSendId, campaign_id: p.spec.campaignId, replayed: q.replayed, estimate, needs_confirmation: null,
      confirmation_token: null, token_expires_at: null, progress: statusOut(s),
      next: `${askedPerson ? "The person confirmed these numbers in their client. " : ""}get_bulk_send_status follows it; cancel_bulk_send stops what has not been sent.`,
    };
  },
  render: renderSendBulk,
});

const IdIn = z.object({ bulk_send_id: z.uuid() });

export const getBulkSendStatus = defineTool({
  name: "get_bulk_send_status",
  title: "Bulk send progress",
  description: "A bulk send's progress: recipients by state, messages by delivery status, sends/s, ETA, errors by reason.",
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: IdIn,
  output: StatusOut,
  handler: async (i, ctx) => statusOut(await bulkStatus(ctx.client ?? ctx.db, ctx.org.id, i.bulk_send_id, ctx.now())),
  render: renderStatus,
});

const CancelOut = z.object({ bulk_send_id: z.string(), cancelled: z.number().int(), already_finished: z.boolean(), next: z.string() });

export const cancelBulkSendTool = defineTool({
  name: "cancel_bulk_send",
  title: "Cancel a bulk send",
  description: "Stop a bulk send: its pending and deferred recipients are not sent; what was sent stays sent.",
  scopes: ["messages:send"],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ bulk_send_id: z.uuid(), reason: z.string().trim().min(3).max(300) }),
  output: CancelOut,
  handler: async (i, ctx) => {
    const r = await cancelBulkSend(ctx.db, ctx.org.id, i.bulk_send_id, i.reason, ctx.now());
    return {
      bulk_send_id: i.bulk_send_id, cancelled: r.cancelled, already_finished: r.alreadyFinished,
      next: r.alreadyFinished ? "It had already finished: nothing to stop." : "Recipients in flight finish their provider call; get_bulk_send_status shows the final counts.",
    };
  },
  render: (o) => (o.already_finished ? `Bulk send ${o.bulk_send_id} had already finished: nothing cancelled.` : `Bulk send ${o.bulk_send_id} cancelled: ${o.cancelled} recipients will not be sent. ${o.next}`),
});
