// external-services in the harness (pnpm harness, pnpm start): arguments for every tool drawn from
// the organization's demo data, the clock-independent read, and this server's part of the story —
// one real message per channel in sandbox mode (each through its provider's SDK to the local
// emulator), its delivery report arriving through the webhook code, and a retry that sends nothing.
import { randomUUID } from "node:crypto";
import { expectThat, firstRow as first, type ArgBuilder, type BuilderContext, type HarnessSpec, type StoryContext, type StoryStep } from "@marketsage/core";
import { TEST_RECIPIENTS } from "./sandbox/test-numbers.ts";

const harnessKey = (what: string) => `harness-${what}-${randomUUID()}`;
/** A documented sandbox test number with no time zone on record (so no quiet hours): the story's fallback at night. */
const NIGHT_FALLBACK = "+14155550001";
const SPECIAL = TEST_RECIPIENTS.filter((t) => t.outcome !== "delivered").map((t) => t.suffix);

type Channel = "SMS" | "WHATSAPP" | "EMAIL";
const CONSENT: Record<Channel, string> = { SMS: "consent_sms", WHATSAPP: "consent_whatsapp", EMAIL: "consent_email" };

/** A reachable customer on the channel whose number the sandbox delivers (not a special test suffix). */
async function reachable(ctx: BuilderContext, channel: Channel): Promise<{ id: string; first_name: string | null }> {
  return first(
    await ctx.q<{ id: string; first_name: string | null }>(
      `select id::text, first_name from contacts
        where organization_id = $1::uuid and status = 'ACTIVE' and ${CONSENT[channel]} = 'SUBSCRIBED'
          and ${channel === "EMAIL" ? "email is not null" : "phone is not null and right(phone, 4) <> all($2::text[])"}
          and first_name is not null
        order by id limit 1`,
      channel === "EMAIL" ? [ctx.orgId] : [ctx.orgId, SPECIAL],
    ),
    `customer reachable on ${channel}`,
  );
}

const override = { quiet_hours_override: "harness: one sandbox message outside the recipient's day" };

const builders: Record<string, ArgBuilder> = {
  validate_message: async (ctx) => ({ channel: "SMS", contact_id: (await reachable(ctx, "SMS")).id, text: "Hi {{first_name}}, your order has shipped." }),
  send_sms: async (ctx) => ({ contact_id: (await reachable(ctx, "SMS")).id, text: "Hi {{first_name}}, your order has shipped.", idempotency_key: harnessKey("sms"), ...override }),
  send_whatsapp: async (ctx) => ({
    contact_id: (await reachable(ctx, "WHATSAPP")).id, whatsapp_template: { name: "order_update", language: "en", params: ["{{first_name}}"] }, idempotency_key: harnessKey("wa"), ...override,
  }),
  send_email: async (ctx) => ({ contact_id: (await reachable(ctx, "EMAIL")).id, subject: "Your order, {{first_name}}", text: "Hi {{first_name}}, it has shipped.", idempotency_key: harnessKey("email") }),
  // A message of the demo data, long settled: the same answer whatever the clock says.
  get_delivery_status: async (ctx) => ({
    message_id: first(
      await ctx.q<{ id: string }>(`select id::text from messages where organization_id = $1::uuid and direction = 'OUTBOUND' and status = 'DELIVERED' and idempotency_key is null order by created_at, id limit 1`, [ctx.orgId]),
      "delivered message",
    ).id,
  }),
  save_template: async () => ({ channel: "SMS", name: `harness reminder ${randomUUID().slice(0, 8)}`, text: 'Hi {{first_name | "there"}}, your cart is waiting.' }),
  list_templates: async () => ({ limit: 5 }),
  get_provider_balance: async () => ({}),
  list_providers: async () => ({}),
  // A real bulk send to two reachable customers (under the confirmation threshold): deferred at
  // their night, sent by day; the status and cancel builders read the latest bulk send.
  send_bulk: async (ctx) => ({
    contact_ids: (
      await ctx.q<{ id: string }>(
        `select id::text from contacts where organization_id = $1::uuid and status = 'ACTIVE' and consent_sms = 'SUBSCRIBED' and phone is not null
            and right(phone, 4) <> all($2::text[]) order by id limit 2`,
        [ctx.orgId, SPECIAL],
      )
    ).map((r) => r.id),
    campaign: { name: "Harness bulk check", channel: "SMS", text: 'Hi {{first_name | "there"}}, new arrivals this week.' },
    idempotency_key: harnessKey("bulk"),
  }),
  get_bulk_send_status: async (ctx) => ({ bulk_send_id: (await latestBulkSend(ctx)).id }),
  cancel_bulk_send: async (ctx) => ({ bulk_send_id: (await latestBulkSend(ctx)).id, reason: "harness: cancel what is left" }),
};

async function latestBulkSend(ctx: BuilderContext): Promise<{ id: string }> {
  return first(await ctx.q<{ id: string }>(`select id::text from bulk_sends where organization_id = $1::uuid order by created_at desc limit 1`, [ctx.orgId]), "bulk send (send_bulk runs before)");
}

interface Sent { status: string; message_id: string | null; provider: string | null; sandbox: boolean; replayed: boolean; recipient: string | null; cost: { amount: string; currency: string } | null; estimate: { amount: string; currency: string } | null }
interface Status { status: string; history: Array<{ type: string; at: string; provider_status: string | null }> }
interface Checked { ok: boolean; errors: Array<{ code: string; message: string }>; warnings: Array<{ code: string }>; quiet_hours: { local_time: string | null; zone: string | null }; sms: { segments: number; encoding: string } | null; costs: Array<{ provider: string; total: { amount: string; currency: string } }> }

/** Waits for the message's delivery report (the emulator reports within a second). */
async function report(s: StoryContext, id: string, want: readonly string[]): Promise<Status> {
  const until = Date.now() + 15_000;
  for (;;) {
    const st = await s.call<Status>("get_delivery_status", { message_id: id });
    if (want.includes(st.status) || Date.now() > until) return st;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The recipient for a phone channel: a reachable customer, or at their night the sandbox test number. */
async function phoneRecipient(s: StoryContext, channel: "SMS" | "WHATSAPP", probe: Record<string, unknown>): Promise<{ args: Record<string, unknown>; who: string }> {
  const c = await reachable(s.ctx, channel);
  const v = await s.call<Checked>("validate_message", { channel, contact_id: c.id, ...probe });
  const quiet = v.errors.find((e) => e.code === "quiet_hours");
  if (quiet) {
    s.say(`  It is ${v.quiet_hours.local_time} for ${c.first_name} (${v.quiet_hours.zone}): validate_message says quiet hours, so the agent does not text them now; the sandbox test number ${NIGHT_FALLBACK} (no time zone on record) stands in.`);
    return { args: { to: NIGHT_FALLBACK }, who: `the sandbox test number ${NIGHT_FALLBACK}` };
  }
  expectThat(v.ok, `validate_message refused a reachable customer on ${channel}: ${v.errors.map((e) => `${e.code}: ${e.message}`).join("; ")}`);
  return { args: { contact_id: c.id }, who: `${c.first_name} (customer ${c.id})` };
}

const money = (m: { amount: string; currency: string } | null) => (m ? `${m.amount} ${m.currency}` : "not stated");


interface BulkOut {
  dry_run: boolean; bulk_send_id: string | null; campaign_id: string; confirmation_token: string | null; needs_confirmation: string | null;
  estimate: { recipients: number; will_send: number; deferred: number; deferred_until: string | null; holdout: number; refused: string[]; variants: string[]; cost: string[]; cost_reporting: string | null };
  progress: { status: string; done: number; total: number; states: Record<string, number>; per_second: number } | null;
}
interface BulkStatusOut { status: string; done: number; total: number; states: Record<string, number>; delivery: Record<string, number>; errors: string[] }

const campaignStep: StoryStep = {
  name: "a campaign to a segment: preview, dry run, confirmation, progress, and its metrics as reports arrive",
  async run(s) {
    // The segment with the most SMS-reachable members, up to 400 (a tour-sized send).
    const seg = first(
      await s.ctx.q<{ id: string; name: string }>(
        `select s.id::text, s.name from segments s join segment_members m on m.segment_id = s.id and m.removed_at is null
           join contacts c on c.id = m.contact_id and c.consent_sms = 'SUBSCRIBED' and c.status = 'ACTIVE'
          where s.organization_id = $1::uuid group by s.id, s.name having count(*) between 2 and 400 order by count(*) desc, s.id limit 1`,
        [s.ctx.orgId],
      ),
      "segment with SMS-reachable members",
    );
    const preview = await s.callOn<{ member_count: number; reachability: { sms: number } }>("customer-data", "get_segment", { id: seg.id });
    s.say(`  customer-data: segment "${seg.name}" has ${preview.member_count} members, ${preview.reachability.sms} reachable by SMS.`);
    const args = {
      segment_id: seg.id, provider: "auto", idempotency_key: harnessKey("story-bulk"),
      campaign: { name: `Tour flash sale ${new Date().toISOString().slice(0, 10)}`, channel: "SMS", text: 'Hi {{first_name | "there"}}, 20% off everything until Sunday.', variants: [{ name: "A", percent: 50 }, { name: "B", percent: 50, text: 'Hi {{first_name | "there"}}, your 20% code: SUNDAY20' }] },
    };
    const dry = await s.call<BulkOut>("send_bulk", { ...args, dry_run: true });
    const e = dry.estimate;
    expectThat(e.recipients === preview.member_count, `the dry run counted ${e.recipients} recipients, the segment has ${preview.member_count}`);
    s.say(`  Dry run (nothing sent): ${e.recipients} recipients — ${e.will_send} now, ${e.deferred} deferred by quiet hours${e.deferred_until ? ` (${e.deferred_until})` : ""}, refused ${e.refused.join(", ") || "none"}; variants ${e.variants.join(", ")}; estimated ${e.cost.join("; ") || "no cost"}${e.cost_reporting ? ` (≈ ${e.cost_reporting})` : ""}.`);
    s.say(`  ${dry.needs_confirmation ? `It needs confirmation (${dry.needs_confirmation}): the person sees these numbers and agrees;` : "Small enough to send without confirmation;"} the agent sends with the dry run's token.`);
    const sent = await s.call<BulkOut>("send_bulk", { ...args, confirmation_token: dry.confirmation_token, wait_seconds: 20 });
    const p = sent.progress!;
    s.say(`  Enqueued bulk send ${sent.bulk_send_id}; after waiting (progress notifications on the way): ${p.status}, ${p.done} of ${p.total} done (${Object.entries(p.states).map(([k, v]) => `${k} ${v}`).join(", ")}).`);
    if (e.will_send === 0) {
      const c = await s.call<{ cancelled: number }>("cancel_bulk_send", { bulk_send_id: sent.bulk_send_id, reason: "tour: it is night for these customers" });
      s.say(`  It is night for these customers: nothing goes out before 08:00 their time. The tour cancels the rest (${c.cancelled} recipients not sent).`);
      return `deferred by quiet hours: ${e.deferred}; cancelled ${c.cancelled}`;
    }
    let st = await s.call<BulkStatusOut>("get_bulk_send_status", { bulk_send_id: sent.bulk_send_id });
    for (const until = Date.now() + 60_000; (st.status !== "completed" || (st.delivery.SENT ?? 0) + (st.delivery.QUEUED ?? 0) > 0) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      st = await s.call<BulkStatusOut>("get_bulk_send_status", { bulk_send_id: sent.bulk_send_id });
    }
    expectThat((st.states.sent ?? 0) > 0, `the bulk send sent nobody: ${JSON.stringify(st.states)}`);
    const m = await s.callOn<{ figures: { counts: Record<string, number | null> } }>("campaign-analytics", "get_campaign_metrics", { id: sent.campaign_id });
    const [sql] = await s.ctx.q<{ delivered: number }>(`select count(*)::int as delivered from messages where campaign_id = $1::uuid and status = 'DELIVERED'`, [sent.campaign_id]);
    expectThat(m.figures.counts.delivered === sql!.delivered, `get_campaign_metrics says ${m.figures.counts.delivered} delivered, the messages say ${sql!.delivered}`);
    s.say(`  ${st.status}: recipients ${Object.entries(st.states).map(([k, v]) => `${k} ${v}`).join(", ")}; messages ${Object.entries(st.delivery).map(([k, v]) => `${k} ${v}`).join(", ")}.`);
    s.say(`  campaign-analytics reads the same rows: get_campaign_metrics shows ${m.figures.counts.sent} sent, ${m.figures.counts.delivered} delivered as the reports arrived.`);
    return `${st.states.sent ?? 0} sent, ${m.figures.counts.delivered} delivered`;
  },
};

const emailCampaignStep: StoryStep = {
  name: "a campaign email: per-recipient unsubscribe (RFC 8058), opens and clicks tracked and counted",
  async run(s) {
    const seg = first(
      await s.ctx.q<{ id: string; name: string; n: number }>(
        `select s.id::text, s.name, count(*)::int as n from segments s join segment_members m on m.segment_id = s.id and m.removed_at is null
           join contacts c on c.id = m.contact_id and c.consent_email = 'SUBSCRIBED' and c.status = 'ACTIVE' and c.email is not null
          where s.organization_id = $1::uuid group by s.id, s.name having count(*) between 5 and 99 order by count(*) desc, s.id limit 1`,
        [s.ctx.orgId],
      ),
      "segment with email-reachable members",
    );
    const sent = await s.call<BulkOut>("send_bulk", {
      segment_id: seg.id, idempotency_key: harnessKey("story-email-bulk"), wait_seconds: 15,
      campaign: {
        name: `Tour newsletter ${new Date().toISOString().slice(0, 10)}`, channel: "EMAIL", subject: 'New this week, {{first_name | "friend"}}',
        html: '<p>Hi {{first_name | "there"}},</p><p>Our <a href="https://shop.example.com/new?utm_source=tour">new arrivals</a> are in.</p>',
        text: 'Hi {{first_name | "there"}}, our new arrivals are in: https://shop.example.com/new?utm_source=tour',
      },
    });
    const e = sent.estimate;
    if (e.will_send === 0) {
      const c = await s.call<{ cancelled: number }>("cancel_bulk_send", { bulk_send_id: sent.bulk_send_id, reason: "tour: it is night for these customers" });
      s.say(`  It is night for the "${seg.name}" readers: the email waits for their morning; the tour cancels it (${c.cancelled} not sent).`);
      return `deferred by quiet hours: ${e.deferred}`;
    }
    // The sandbox's readers follow each email's own links (opens@/clicks@ and a hash of the address
    // decide who), a little after each email: read the metrics and the events until both agree.
    type Metrics = { figures: { counts: Record<string, number | null> } };
    const eventsSql = `select count(distinct e.message_id) filter (where e.type in ('OPENED', 'CLICKED'))::int as opened, count(distinct e.message_id) filter (where e.type = 'CLICKED')::int as clicked,
              count(distinct e.message_id) filter (where e.type = 'UNSUBSCRIBED')::int as unsub
         from message_events e where e.campaign_id = $1::uuid`;
    let m: Metrics;
    let sql: { opened: number; clicked: number; unsub: number } | undefined;
    for (const until = Date.now() + 20_000; ; ) {
      m = await s.callOn<Metrics>("campaign-analytics", "get_campaign_metrics", { id: sent.campaign_id });
      [sql] = await s.ctx.q<{ opened: number; clicked: number; unsub: number }>(eventsSql, [sent.campaign_id]);
      const agree = m.figures.counts.opened === sql!.opened && m.figures.counts.clicked === sql!.clicked;
      if ((agree && sql!.opened > 0) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expectThat(m.figures.counts.opened === sql!.opened && m.figures.counts.clicked === sql!.clicked, `get_campaign_metrics says ${m.figures.counts.opened} opened / ${m.figures.counts.clicked} clicked, the events say ${sql!.opened} / ${sql!.clicked}`);
    s.say(`  An email campaign to "${seg.name}" (${e.will_send} now, ${e.deferred} later): every email carries its own signed links, an open pixel and a one-click unsubscribe (List-Unsubscribe-Post).`);
    s.say(`  The sandbox's readers followed those links: ${sql!.opened} opened, ${sql!.clicked} clicked, ${sql!.unsub} unsubscribed; get_campaign_metrics counts the same events (opened ${m.figures.counts.opened}, clicked ${m.figures.counts.clicked}).`);
    return `${sql!.opened} opened, ${sql!.clicked} clicked`;
  },
};

const steps: StoryStep[] = [
  {
    name: "an SMS checked, sent in sandbox mode, and its delivery report arriving",
    async run(s) {
      // A default for the name: at the customers' night the story writes to a test number, no customer.
      const text = 'Hi {{first_name | "there"}}, your order has shipped.';
      const { args, who } = await phoneRecipient(s, "SMS", { text });
      const k = harnessKey("story-sms");
      const sent = await s.call<Sent>("send_sms", { ...args, text, idempotency_key: k });
      expectThat(sent.sandbox && sent.message_id !== null, `send_sms did not send in sandbox mode: ${JSON.stringify(sent)}`);
      const st = await report(s, sent.message_id!, ["delivered", "failed"]);
      expectThat(st.status === "delivered", `the SMS's delivery report did not arrive (status ${st.status})`);
      s.say(`  The agent texted ${who} through ${sent.provider} (sandbox: its real SDK to the local emulator), estimated ${sent.estimate ? money(sent.estimate) : "— no rate on record for that number"}; the signed delivery report came back: ${st.history.map((h) => h.type).join(" → ")}.`);
      const again = await s.call<Sent>("send_sms", { ...args, text, idempotency_key: k });
      expectThat(again.replayed && again.message_id === sent.message_id, "a retry with the same idempotency key was sent again");
      s.state.sms = sent.message_id;
      s.say(`  Retried with the same idempotency key: the first result came back (message ${again.message_id}), nothing was sent twice.`);
      return `${sent.provider}: ${st.status}`;
    },
  },
  {
    name: "a WhatsApp template outside the 24-hour window, delivered",
    async run(s) {
      const whatsapp_template = { name: "order_update", language: "en", params: ['{{first_name | "there"}}'] };
      const { args, who } = await phoneRecipient(s, "WHATSAPP", { whatsapp_template });
      const sent = await s.call<Sent>("send_whatsapp", { ...args, whatsapp_template, idempotency_key: harnessKey("story-wa") });
      const st = await report(s, sent.message_id!, ["delivered", "failed"]);
      expectThat(st.status === "delivered", `the WhatsApp message's report did not arrive (status ${st.status})`);
      s.say(`  An approved template to ${who} on WhatsApp (free text needs the customer to have written in the last 24 h): ${st.history.map((h) => h.type).join(" → ")}.`);
      return st.status;
    },
  },
  {
    name: "an email through SMTP, accepted by the server",
    async run(s) {
      const c = await reachable(s.ctx, "EMAIL");
      const sent = await s.call<Sent>("send_email", { contact_id: c.id, subject: "Your order, {{first_name}}", text: "Hi {{first_name}}, it has shipped.", idempotency_key: harnessKey("story-email") });
      expectThat(sent.status === "sent", `the email was not accepted: ${sent.status}`);
      s.say(`  An email to ${c.first_name} went through nodemailer to the sandbox SMTP server, which accepted it (status ${sent.status}; email has no delivery report).`);
      return sent.status;
    },
  },
  campaignStep,
  emailCampaignStep,
];

export const harness: HarnessSpec = {
  builders,
  stableProbes: ["get_delivery_status"],
  story: { title: "Messages really sent: one per channel in sandbox mode, each with its report", steps },
  cheapRead: { tool: "list_templates", args: (tag) => ({ name: tag, limit: 1 }) },
};
