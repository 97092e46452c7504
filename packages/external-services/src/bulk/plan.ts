// What happens to each recipient of a bulk send, checked at the time it is asked (the dry run) or
// sent (the worker): the same checks as validate_message and a single send (recipient, consent and
// reachability, merge fields, shape, the WhatsApp window), with quiet hours at the recipient's local
// time deferring the recipient to the window's end rather than refusing it; the arm (variant or
// holdout) by hash; the provider (SMS "auto": ranked per destination country, as a single send) and
// its cost estimate. State for a whole wave is read in two statements; rates and routes are memoized.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { allows, readCircuits, type Circuit } from "../providers/circuit.ts";
import { CHANNEL_PROVIDERS, type ProviderName } from "../providers/types.ts";
import { estimateCosts, inReportingCurrency, type CostEstimate } from "../queries/cost.ts";
import { recipientStates } from "../queries/recipient.ts";
import { observedDelivery, rankSmsProviders, type Observed } from "../send/route.ts";
import { campaignUrls, trackMessage, type CampaignLink } from "../tracking/links.ts";
import { validateMessage, type Validation } from "../validate/message.ts";
import { MAX_SEGMENTS, smsShape } from "../validate/sms.ts";
import { assignArm, type BulkSpec } from "./spec.ts";

export type Decision =
  | { kind: "holdout"; contactId: string }
  | { kind: "refuse"; contactId: string; variant: number; code: string; reason: string }
  | { kind: "defer"; contactId: string; variant: number; until: Date; reason: string; provider: ProviderName | null; cost: CostEstimate | null }
  | {
      kind: "send"; contactId: string; variant: number; address: string; content: Validation["content"]; segments: number; country: string | null;
      provider: ProviderName; cost: CostEstimate | null;
    };

const PLACEHOLDER_KEY = Buffer.alloc(32);
const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

/** Memos shared by the waves of one chunk (or one dry run). */
export class PlanContext {
  private readonly costs = new Map<string, Promise<CostEstimate[]>>();
  private readonly routes = new Map<string, Promise<ProviderName | null>>();
  private observed: Promise<Map<string, Observed>> | null = null;
  private circuits: Promise<Circuit[]> | null = null;

  private readonly smsLinks: CampaignLink[] | null;

  /** `trackingBase`: the tracking links' base URL (their length counts in an SMS with track_links). */
  constructor(readonly db: DbHandle, readonly org: OrgInfo, readonly spec: BulkSpec, readonly smsOrder: readonly ProviderName[], readonly now: Date, readonly trackingBase: string) {
    const urls = spec.channel === "SMS" && spec.trackLinks ? campaignUrls(spec.variants.map((v) => v.content.text)) : [];
    this.smsLinks = urls.length ? urls.map((url, idx) => ({ idx, url })) : null;
  }

  /**
   * The SMS text as it will be sent: with track_links its URLs become click links, whose length
   * depends only on the base URL (a token is fixed-size), so a placeholder message id and key give
   * the sent text's length — its segments and cost — before the links are registered.
   */
  sentSmsText(text: string): string {
    if (!this.smsLinks) return text;
    return trackMessage({ baseUrl: this.trackingBase, key: PLACEHOLDER_KEY }, { messageId: PLACEHOLDER_ID, channel: "SMS", text, html: null, links: this.smsLinks, shortenLinks: true }).text ?? text;
  }

  costOf(country: string | null, units: number): Promise<CostEstimate[]> {
    const k = `${country ?? ""}:${units}`;
    let p = this.costs.get(k);
    if (!p) {
      p = estimateCosts(this.db, { providers: CHANNEL_PROVIDERS[this.spec.channel], channel: this.spec.channel, country, units, at: this.now }).then((m) => [...m.values()]);
      this.costs.set(k, p);
    }
    return p;
  }

  /** The provider for a destination country (units only change the cost, not the ranking). */
  providerFor(country: string | null, costs: CostEstimate[]): Promise<ProviderName | null> {
    if (this.spec.provider !== "auto") return Promise.resolve(this.spec.provider);
    const k = country ?? "";
    let p = this.routes.get(k);
    if (!p) {
      p = (async () => {
        this.circuits ??= readCircuits(this.db, CHANNEL_PROVIDERS.SMS, this.now);
        this.observed ??= observedDelivery(this.db, this.org.id, this.now);
        const [circuits, observed, reporting] = await Promise.all([this.circuits, this.observed, inReportingCurrency(this.db, this.org, costs, this.now)]);
        const decision = rankSmsProviders(
          CHANNEL_PROVIDERS.SMS.map((pv) => ({ provider: pv, cost: costs.find((e) => e.provider === pv) ?? null, costReporting: reporting.get(pv) ?? null, observed: observed.get(pv), circuit: circuits.find((c) => c.provider === pv)! })),
          this.smsOrder, this.org.reportingCurrency,
        );
        return decision.order[0] ?? null;
      })();
      this.routes.set(k, p);
    }
    return p;
  }

  async circuitOpen(provider: ProviderName): Promise<boolean> {
    this.circuits ??= readCircuits(this.db, CHANNEL_PROVIDERS[this.spec.channel], this.now);
    const c = (await this.circuits).find((x) => x.provider === provider);
    return c ? !allows(c) : false;
  }
}

/** Decides each contact's fate now (in the given order). */
export async function decide(ctx: PlanContext, contactIds: readonly string[]): Promise<Decision[]> {
  const { spec, org, now } = ctx;
  const states = await recipientStates(ctx.db, org.id, spec.channel, contactIds, now);
  const out: Decision[] = [];
  for (const contactId of contactIds) {
    const arm = assignArm(spec, contactId);
    if (arm.holdout) {
      out.push({ kind: "holdout", contactId });
      continue;
    }
    const variant = arm.variant;
    const state = states.get(contactId);
    if (!state?.contact) {
      out.push({ kind: "refuse", contactId, variant, code: "unknown_contact", reason: "the contact no longer exists" });
      continue;
    }
    const c = spec.variants[variant]!.content;
    const v = await validateMessage(
      ctx.db, org,
      { channel: spec.channel, contactId, text: c.text, subject: c.subject, html: c.html, whatsappTemplate: c.whatsappTemplate, variables: spec.variables },
      { now, preloaded: { state, costs: (country, units) => ctx.costOf(country, units) } },
    );
    const blocking = v.errors.filter((e) => e.code !== "quiet_hours");
    if (blocking.length) {
      const e = blocking[0]!;
      out.push({ kind: "refuse", contactId, variant, code: e.code, reason: e.message });
      continue;
    }
    let segments = v.sms?.segments ?? 1;
    let costs = v.costs;
    if (v.sms && v.content.text) {
      const sent = smsShape(ctx.sentSmsText(v.content.text)).segments;
      if (sent > MAX_SEGMENTS) {
        out.push({ kind: "refuse", contactId, variant, code: "too_long", reason: `${sent} segments with its links tracked; at most ${MAX_SEGMENTS}: shorten the text or send with track_links: false` });
        continue;
      }
      if (sent !== segments) {
        segments = sent;
        costs = await ctx.costOf(v.recipient.country, sent);
      }
    }
    const provider = await ctx.providerFor(v.recipient.country, costs);
    const cost = provider ? (costs.find((x) => x.provider === provider) ?? null) : null;
    if (v.errors.length) {
      // Quiet hours alone: deferred to the end of the recipient's window.
      out.push({ kind: "defer", contactId, variant, until: v.quiet.allowedAt!, reason: `quiet hours (${v.quiet.localTime} ${v.quiet.zone})`, provider, cost });
      continue;
    }
    if (!provider) {
      out.push({ kind: "defer", contactId, variant, until: new Date(now.getTime() + 60_000), reason: "no SMS provider can take the message now (circuits open)", provider: null, cost: null });
      continue;
    }
    out.push({ kind: "send", contactId, variant, address: v.recipient.address!, content: v.content, segments, country: v.recipient.country, provider, cost });
  }
  return out;
}
