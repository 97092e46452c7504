// messages and message_events for every organization: campaign sends (A/B split where planned),
// transactional traffic (OTP, receipts, delivery updates) that keeps the last hour busy, and the
// inbound STOP replies behind the 'inbound_sms' unsubscribes. Attributed conversions from clicks
// are collected on the way and written with the web conversions.
import { anomalyDay, type PlannedCampaign } from "./campaigns.ts";
import type { SeedContext } from "./context.ts";
import { brand } from "./context.ts";
import { Rng } from "./prng.ts";
import { MessageSink } from "./sink.ts";
import { ARCHIVED, EMAIL, SMS, WHATSAPP, createdBy, reachable, type OrgContacts } from "./store.ts";
import { DAY, HOUR, MINUTE } from "./time.ts";

/** Share of contacts reachable on each channel today (sampled): converts audience targets into draws. */
function reachRates(rng: Rng, s: OrgContacts, now: number): number[] {
  const hits = [0, 0, 0];
  const n = Math.min(s.n, 4000);
  for (let k = 0; k < n; k++) {
    const i = rng.int(s.n);
    if (s.status[i] === ARCHIVED) continue;
    for (let ch = 0; ch < 3; ch++) if (reachable(s, i, ch, now)) hits[ch]!++;
  }
  return hits.map((h) => Math.max(0.05, h / Math.max(1, n)));
}

function baseFail(ch: number, t: number, anomaly: number): number {
  // The anomaly day: an SMS/WhatsApp provider outage fails almost half of the traffic.
  if (ch !== EMAIL && t >= anomaly && t < anomaly + DAY) return 0.45;
  return ch === SMS ? 0.035 : ch === WHATSAPP ? 0.02 : 0;
}

async function campaignSends(ctx: SeedContext, sink: MessageSink, s: OrgContacts, plans: readonly PlannedCampaign[]): Promise<number> {
  const { tl } = ctx;
  const rng = new Rng(ctx.seed, `recipients:${s.org.slug}`);
  const rates = reachRates(rng, s, tl.now);
  const target = ctx.sizes[s.orgIndex]!.campaignMessages;
  const sending = plans.filter((c) => c.sentAt === c.sentAt);
  let expected = 0;
  for (const c of sending) expected += createdBy(s, c.sentAt) * rates[c.channel]! * c.mult * c.sentShare;
  const scale = expected > 0 ? target / expected : 0;
  const anomaly = anomalyDay(tl.now, s.orgIndex);
  const stamp = new Int32Array(s.n).fill(-1);
  const b = brand(s.org.slug);
  let total = 0;
  for (const [cn, c] of sending.entries()) {
    const k = createdBy(s, c.sentAt);
    if (!k) continue;
    const rate = rates[c.channel]!;
    const audience = Math.min(Math.floor(0.9 * k * rate), Math.round(scale * k * rate * c.mult * c.sentShare));
    const window = c.status === "SENDING" ? tl.now - c.sentAt : c.sendWindow;
    const link = `https://${b.domain}/s/${c.slug.slice(0, 24)}`;
    let sent = 0;
    for (let tries = 0; sent < audience && tries < audience * 4 / rate + 50; tries++) {
      const i = rng.int(k);
      if (stamp[i] === cn || s.status[i] === ARCHIVED || !reachable(s, i, c.channel, c.sentAt)) continue;
      stamp[i] = cn;
      const t0 = Math.floor(c.sentAt + (sent / Math.max(1, audience)) * window + rng.uniform(0, 1_000));
      sent++;
      if (t0 > tl.now) continue;
      const v = c.variants.length ? c.variants[rng.chance(0.5) ? 0 : 1]! : null;
      sink.send({
        s, i, ch: c.channel, t0, campaignId: c.id, variantId: v?.id ?? null,
        body: c.channel === EMAIL ? null : (v?.content ?? c.content), segments: v?.segments ?? c.segments, idem: null,
        failP: baseFail(c.channel, t0, anomaly), lift: v?.lift ?? 1, transactional: false, link,
      });
      total++;
      if (sink.full) await sink.flush();
    }
  }
  return total;
}

const TXN_CHANNEL: Array<[number, number]> = [[SMS, 45], [EMAIL, 35], [WHATSAPP, 20]];

async function transactional(ctx: SeedContext, sink: MessageSink, s: OrgContacts): Promise<number> {
  const { tl } = ctx;
  const rng = new Rng(ctx.seed, `transactional:${s.org.slug}`);
  const b = brand(s.org.slug);
  const anomaly = anomalyDay(tl.now, s.orgIndex);
  const n = ctx.sizes[s.orgIndex]!.transactional;
  const prefix = s.org.slug === "naija-retail" ? "NR" : "SV";
  const name = s.org.name.replace(/ (Co|Ltd)\.$/, "");
  const times: number[] = [];
  for (let k = 0; k < n; k++) times.push(Math.floor(tl.growthTime(rng, 1.6)));
  // Always some traffic in the last hour and the last day, whatever the scale.
  for (let k = 0; k < 6; k++) times.push(Math.floor(tl.now - rng.uniform(MINUTE, 55 * MINUTE)));
  for (let k = 0; k < 24; k++) times.push(Math.floor(tl.now - rng.uniform(HOUR, 24 * HOUR)));
  times.sort((x, y) => x - y);
  let written = 0;
  for (const [k, t] of times.entries()) {
    const avail = createdBy(s, t);
    if (!avail) continue;
    const i = rng.int(avail);
    const w = rng.next() * 100;
    let ch = w < TXN_CHANNEL[0]![1] ? SMS : w < 80 ? EMAIL : WHATSAPP;
    if (ch === EMAIL && !s.emails[i]) ch = SMS;
    if (ch !== EMAIL && !s.phones[i]) ch = EMAIL;
    const order = `${prefix}-${(100_000 + k).toString()}`;
    let body: string, idem: string;
    if (ch === SMS) {
      body = rng.chance(0.6)
        ? `Your ${name} verification code is ${String(rng.int(1_000_000)).padStart(6, "0")}. It expires in 10 minutes. Do not share it.`
        : `${name}: your order ${order} has been confirmed. Track it at https://${b.domain}/t/${order}`;
      idem = `sms-${order}-${rng.hex(8)}`;
    } else if (ch === EMAIL) {
      body = `Your order ${order} is confirmed. Thank you for shopping with ${name}.`;
      idem = `receipt-${order}`;
    } else {
      body = `Hi! Your order ${order} is out for delivery 🚚 Track it here: https://${b.domain}/t/${order}`;
      idem = `wa-${order}`;
    }
    sink.send({ s, i, ch, t0: t, campaignId: null, variantId: null, body, segments: ch === SMS ? (body.length > 160 ? 2 : 1) : 1, idem, failP: baseFail(ch, t, anomaly), lift: 1, transactional: true, link: null });
    written++;
    if (sink.full) await sink.flush();
  }
  return written;
}

/** Inbound STOP replies, each at the exact time of its 'inbound_sms' unsubscribe consent event. */
async function stopReplies(sink: MessageSink, s: OrgContacts): Promise<number> {
  let n = 0;
  for (let i = 0; i < s.n; i++) {
    if (!s.stopSms[i]) continue;
    sink.inbound(s, i, SMS, s.unsub[i * 3 + SMS]!, sink.stopWord());
    n++;
    if (sink.full) await sink.flush();
  }
  return n;
}

export async function loadMessages(ctx: SeedContext, stores: readonly OrgContacts[], plans: readonly PlannedCampaign[][]): Promise<string[]> {
  const sink = await MessageSink.open(ctx, ctx.tl.now);
  for (const s of stores) {
    const c = await campaignSends(ctx, sink, s, plans[s.orgIndex]!);
    const t = await transactional(ctx, sink, s);
    const st = await stopReplies(sink, s);
    ctx.log(`  ${s.org.slug}: ${c} campaign messages, ${t} transactional, ${st} STOP replies, ${sink.eventId} events so far`);
  }
  const [a, b] = await sink.end();
  ctx.loader.record(a);
  ctx.loader.record(b);
  return sink.conversions;
}
