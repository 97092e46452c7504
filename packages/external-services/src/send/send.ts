// One message, sent or refused: what send_email, send_sms and send_whatsapp do.
//   1. content: given, or a saved template (its version is recorded) with variables;
//   2. the same checks as validate_message (recipient, consent, merge fields, shape, quiet hours,
//      the WhatsApp window); any error refuses the send, nothing is written — quiet hours only may
//      be overridden, by a role with messages:override_quiet_hours and with a reason (audited);
//   3. dry_run: what would be sent, the route and the cost, nothing written;
//   4. the sender: the caller's `from` if it is one of the organization's sender identities for
//      the provider, else the organization's default identity, else the provider's configured one;
//   5. the ledger claim under the idempotency key, committed BEFORE the provider is called (a
//      retry, even a concurrent one, answers the first result; other content: a conflict);
//   6. the provider through its SDK, under a timeout (no answer: outcome_unknown, final for the
//      key, never resent); SMS with provider "auto" goes down the ranked providers, to the next
//      only after a definite refusal or past an open circuit;
//   7. settle the row (status, provider id, cost), and the provider's circuit.
import type { DbHandle, OrgInfo, Principal } from "@marketsage/core";
import { ConflictError, UnavailableError, UserError } from "@marketsage/core";
import type { Db } from "@marketsage/db";
import { allows, readCircuits, recordOutcome, type Circuit } from "../providers/circuit.ts";
import { CHANNEL_PROVIDERS, type Channel, type Money, type OutgoingMessage, type ProviderName, type SendOutcome } from "../providers/types.ts";
import { inReportingCurrency, type CostEstimate } from "../queries/cost.ts";
import { getTemplate } from "../queries/templates.ts";
import type { MessagingService } from "../service.ts";
import { validateMessage, type MessageDraft, type Problem, type Validation } from "../validate/message.ts";
import { claimSend, IdempotencyConflict, requestHash, settleSend, type LedgerMessage } from "./ledger.ts";
import { observedDelivery, rankSmsProviders, type RankedProvider } from "./route.ts";

/** A draft as validate_message checks it, plus how to send it. */
export interface SendRequest extends MessageDraft {
  templateId?: string | undefined;
  /** SMS: a provider or "auto" (default); other channels have one provider. */
  provider?: ProviderName | "auto" | undefined;
  from?: string | undefined;
  idempotencyKey: string;
  dryRun: boolean;
  quietHoursOverride?: { reason: string } | undefined;
}

export interface Attempt {
  provider: ProviderName;
  outcome: SendOutcome["kind"] | "skipped";
  code: string | null;
  reason: string | null;
}

export interface SendResult {
  dryRun: boolean;
  /** The first result of this idempotency key (a retry), not a new send. */
  replayed: boolean;
  /** A concurrent call with this key is still waiting for the provider. */
  inFlight: boolean;
  message: LedgerMessage | null;
  recipient: string;
  channel: Channel;
  provider: ProviderName | null;
  sender: string | null;
  sandbox: boolean;
  templateId: string | null;
  segments: number;
  estimate: CostEstimate | null;
  route: RankedProvider[] | null;
  attempts: Attempt[];
  warnings: Problem[];
  quietHoursOverridden: string | null;
}

export class SendRefused extends UserError {
  constructor(readonly validation: Validation, reason: string) {
    super(reason, { errors: validation.errors.map((e) => e.code) });
  }
}

const contentOf = (v: Validation) => ({ text: v.content.text, subject: v.content.subject, html: v.content.html, whatsappTemplate: v.content.whatsappTemplate });

export async function senderFor(db: DbHandle, orgId: string, channel: Channel, provider: ProviderName, asked: string | undefined): Promise<string | null> {
  const rows = await db.$queryRaw<Array<{ sender: string; is_default: boolean }>>`
    select sender, is_default from sender_identities where organization_id = ${orgId}::uuid and channel = ${channel}::"Channel" and provider = ${provider}`;
  if (asked !== undefined) {
    if (!rows.some((r) => r.sender === asked)) {
      throw new UserError(`"${asked}" is not one of this organization's ${provider} senders (${rows.map((r) => r.sender).join(", ") || "none registered"}): leave \`from\` out to use the default sender.`);
    }
    return asked;
  }
  return rows.find((r) => r.is_default)?.sender ?? rows[0]?.sender ?? null;
}

/** The providers to try, in order, with the routing decision (SMS auto) or the one provider. */
async function providerOrder(
  db: DbHandle, svc: MessagingService, org: OrgInfo, req: SendRequest, estimates: readonly CostEstimate[], circuits: readonly Circuit[], now: Date,
): Promise<{ order: ProviderName[]; route: RankedProvider[] | null }> {
  const choices = CHANNEL_PROVIDERS[req.channel];
  const asked = req.provider ?? (req.channel === "SMS" ? "auto" : choices[0]!);
  if (asked !== "auto") {
    if (!choices.includes(asked)) throw new UserError(`${asked} does not send ${req.channel}: use ${choices.join(" or ")}${req.channel === "SMS" ? ' or "auto"' : ""}.`);
    const c = circuits.find((x) => x.provider === asked)!;
    if (!allows(c)) {
      throw new UnavailableError(`${asked} is failing (circuit open after ${c.consecutiveFailures} failures; next trial at ${c.retryAt?.toISOString() ?? "soon"}): nothing was sent. Retry later${req.channel === "SMS" ? ' or use provider "auto"' : ""}.`, { reason: "circuit_open", provider: asked });
    }
    return { order: [asked], route: null };
  }
  if (req.channel !== "SMS") throw new UserError(`provider "auto" routes SMS only; ${req.channel} is sent by ${choices.join(", ")}.`);
  const reporting = await inReportingCurrency(db, org, estimates, now);
  const observed = await observedDelivery(db, org.id, now);
  const decision = rankSmsProviders(
    choices.map((p) => ({ provider: p, cost: estimates.find((e) => e.provider === p) ?? null, costReporting: reporting.get(p) ?? null, observed: observed.get(p), circuit: circuits.find((c) => c.provider === p)! })),
    svc.config.smsOrder, org.reportingCurrency,
  );
  if (decision.order.length === 0) {
    throw new UnavailableError(`no SMS provider can take the message now: ${decision.ranked.map((r) => r.reason).join("; ")}. Nothing was sent; retry later.`, { reason: "circuit_open" });
  }
  return { order: decision.order, route: decision.ranked };
}

export async function sendMessage(
  client: Db, svc: MessagingService, principal: Principal, req: SendRequest, opts: { now: () => Date; canOverrideQuietHours: boolean },
): Promise<SendResult> {
  const org = principal.org;
  const now = opts.now();
  let draft = req;
  let templateId: string | null = null;
  if (req.templateId) {
    const t = await getTemplate(client, org.id, req.templateId);
    if (!t) throw new UserError(`no template ${req.templateId} in this organization: list_templates shows the ids.`);
    if (t.channel !== req.channel) throw new UserError(`template ${t.name} (v${t.version}) is for ${t.channel}, not ${req.channel}.`);
    templateId = t.id;
    draft = { ...req, subject: t.subject ?? undefined, html: t.html ?? undefined, text: t.text ?? undefined, whatsappTemplate: t.whatsapp ?? undefined };
  }
  const v = await validateMessage(client, org, draft, { now });
  let overridden: string | null = null;
  const blocking = v.errors.filter((e) => {
    if (e.code !== "quiet_hours" || !req.quietHoursOverride) return true;
    if (!opts.canOverrideQuietHours) return true;
    overridden = req.quietHoursOverride.reason;
    return false;
  });
  if (req.quietHoursOverride && !opts.canOverrideQuietHours && v.errors.some((e) => e.code === "quiet_hours")) {
    throw new SendRefused(v, `Your role (${principal.role}) may not override quiet hours (it needs messages:override_quiet_hours): nothing was sent. ${v.errors.find((e) => e.code === "quiet_hours")!.fix}`);
  }
  if (blocking.length) {
    throw new SendRefused(v, `Not sent: ${blocking.map((e) => `${e.code}: ${e.message} — ${e.fix}`).join(" | ")}`);
  }
  const recipient = v.recipient.address!;
  const segments = v.sms?.segments ?? 1;
  const circuits = await readCircuits(client, CHANNEL_PROVIDERS[req.channel], now);
  const { order, route } = await providerOrder(client, svc, org, req, v.costs, circuits, now);
  const first = order[0]!;
  const sandboxOf = (p: ProviderName) => svc.config[p].mode === "sandbox";
  const base = (p: ProviderName, sender: string | null, message: LedgerMessage | null, extra: Partial<SendResult> = {}): SendResult => ({
    dryRun: req.dryRun, replayed: false, inFlight: false, message, recipient, channel: req.channel, provider: p, sender, sandbox: sandboxOf(p), templateId, segments,
    estimate: v.costs.find((c) => c.provider === p) ?? null, route, attempts: [], warnings: v.warnings, quietHoursOverridden: overridden, ...extra,
  });
  const sender = await senderFor(client, org.id, req.channel, first, req.from);
  if (req.dryRun) return base(first, sender, null);

  // What makes a retry the same request: the caller's input (not the rendering, which a contact
  // edit could change) — the same key with other input is a conflict.
  const hash = requestHash({
    channel: req.channel, to: req.to ?? null, contact_id: req.contactId ?? null, text: req.text ?? null, subject: req.subject ?? null, html: req.html ?? null,
    whatsapp_template: req.whatsappTemplate ?? null, template_id: req.templateId ?? null, variables: req.variables ?? null, provider: req.provider ?? null, from: req.from ?? null,
  });
  const content = contentOf(v);
  let claim;
  try {
    claim = await claimSend(client, {
      orgId: org.id, key: req.idempotencyKey, hash, channel: req.channel, recipient, sender, contactId: v.recipient.contactId,
      body: content.text ?? (content.whatsappTemplate ? `[template ${content.whatsappTemplate.name}] ${content.whatsappTemplate.params.join(" | ")}` : null),
      provider: first, segments, sandbox: sandboxOf(first), templateId, now,
    });
  } catch (e) {
    if (e instanceof IdempotencyConflict) throw new ConflictError(`${e.message}.`, { message_id: e.messageId });
    throw e;
  }
  if (!claim.claimed) {
    const m = claim.message;
    const p = (m.provider ?? first) as ProviderName;
    return base(p, sender, m, { replayed: true, inFlight: claim.inFlight, sandbox: sandboxOf(p), segments: m.segments });
  }

  const attempts: Attempt[] = [];
  let outcome: SendOutcome = { kind: "unknown", reason: "not attempted" };
  let used = first;
  let usedSender = sender;
  for (const [i, p] of order.entries()) {
    used = p;
    if (i > 0) {
      usedSender = await senderFor(client, org.id, req.channel, p, undefined);
      await client.$executeRaw`update messages set provider = ${p}, sender = ${usedSender}, sandbox = ${sandboxOf(p)} where id = ${claim.messageId}::uuid`;
    }
    const provider = await svc.provider(p);
    const callback = svc.callbackBase(p);
    const out: OutgoingMessage = {
      to: recipient, from: usedSender ?? undefined, text: content.text ?? undefined, subject: content.subject ?? undefined, html: content.html ?? undefined,
      template: content.whatsappTemplate ?? undefined, idempotencyKey: req.idempotencyKey,
      statusCallbackUrl: p === "twilio" && callback ? `${callback}/webhooks/twilio/status` : undefined,
    };
    outcome = await provider.send(out, { timeoutMs: svc.sendTimeoutMs });
    const c = circuits.find((x) => x.provider === p);
    const success = outcome.kind === "accepted" || outcome.kind === "definite";
    // A healthy circuit that stays healthy is not rewritten on every send.
    if (!(success && c && c.state === "closed" && c.consecutiveFailures === 0)) await recordOutcome(client, p, outcome.kind, opts.now());
    attempts.push({ provider: p, outcome: outcome.kind, code: "code" in outcome ? outcome.code : null, reason: outcome.kind === "accepted" ? null : outcome.reason });
    // Only a definite refusal of the provider's own (not of the recipient) moves on to the next.
    if (outcome.kind !== "definite" || !PROVIDER_SIDE.has(outcome.code)) break;
  }
  const message = await settleSend(client, org.id, claim.messageId, outcome, opts.now());
  return base(used, usedSender, message, { attempts, sandbox: sandboxOf(used) });
}

/**
 * Definite refusals that are the provider's (its account, its route, its sender): another provider
 * may take the message. The recipient's (invalid number, opted out) would be refused anywhere.
 */
export const PROVIDER_SIDE: ReadonlySet<string> = new Set(["insufficient_balance", "invalid_sender", "cannot_route", "risk_hold", "auth_failed", "permission_denied", "unsupported_number_type"]);

export type { Money };
