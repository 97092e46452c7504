// visitors, visitor_sessions and touchpoints (three COPYs fed by one loop), plus the conversions
// that happen on the website. Mobile-heavy Android/Chrome and Opera Mini traffic, referrers from
// Google, Facebook, Instagram, WhatsApp and X, UTM tags naming real campaigns, ~25% of visitors
// identified as contacts, and some visitors active in the last 30 minutes for real-time views.
import type { PlannedCampaign } from "./campaigns.ts";
import type { SeedContext } from "./context.ts";
import { CopyWriter, NULL, esc, opt, flushFull } from "./copy.ts";
import { COUNTRY_CODES, country } from "./geo.ts";
import { SITES, journey, landingPage } from "./journey.ts";
import { conversionValue } from "./money.ts";
import { Rng, Weighted } from "./prng.ts";
import { CHANNELS, createdBy, type OrgContacts } from "./store.ts";
import { DAY, MINUTE, ts } from "./time.ts";

const DEVICES = new Weighted<"MOBILE" | "DESKTOP" | "TABLET">([["MOBILE", 70], ["DESKTOP", 25], ["TABLET", 5]]);
const AGENTS: Record<string, Weighted<[string, string]>> = {
  MOBILE: new Weighted<[string, string]>([[["Android", "Chrome"], 55], [["Android", "Opera Mini"], 12], [["iOS", "Safari"], 16], [["Android", "Samsung Internet"], 9], [["Android", "Opera"], 5], [["iOS", "Chrome"], 3]]),
  DESKTOP: new Weighted<[string, string]>([[["Windows", "Chrome"], 55], [["Windows", "Edge"], 12], [["macOS", "Safari"], 12], [["macOS", "Chrome"], 10], [["Windows", "Firefox"], 6], [["Linux", "Firefox"], 5]]),
  TABLET: new Weighted<[string, string]>([[["iPadOS", "Safari"], 50], [["Android", "Chrome"], 50]]),
};
type Kind = "organic" | "paid" | "direct" | "social" | "message";
interface Source { ref: string | null; kind: Kind; utm?: [string, string] | "message" }
const SOURCES = new Weighted<Source>([
  [{ ref: "https://www.google.com/", kind: "organic" }, 30],
  [{ ref: "https://www.google.com/", kind: "paid", utm: ["google", "cpc"] }, 8],
  [{ ref: null, kind: "direct" }, 18],
  [{ ref: "https://l.facebook.com/", kind: "social" }, 6],
  [{ ref: "https://l.facebook.com/", kind: "paid", utm: ["facebook", "paid_social"] }, 6],
  [{ ref: "https://l.instagram.com/", kind: "social" }, 4],
  [{ ref: "https://l.instagram.com/", kind: "paid", utm: ["instagram", "paid_social"] }, 5],
  [{ ref: "android-app://com.whatsapp/", kind: "social", utm: ["whatsapp", "social"] }, 12],
  [{ ref: "https://t.co/", kind: "social" }, 5],
  [{ ref: null, kind: "message", utm: "message" }, 6],
]);

/** The latest sent campaign (optionally on one channel) in the 14 days before t. */
function recentCampaign(sent: readonly PlannedCampaign[], t: number, channel?: number): PlannedCampaign | undefined {
  let lo = 0, hi = sent.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sent[mid]!.sentAt <= t) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo - 1; k >= 0 && t - sent[k]!.sentAt < 14 * DAY; k--) {
    if (channel === undefined || sent[k]!.channel === channel) return sent[k];
  }
  return undefined;
}

export async function loadWeb(ctx: SeedContext, stores: readonly OrgContacts[], plans: readonly PlannedCampaign[][]): Promise<string[]> {
  const { loader, tl } = ctx;
  const visitors = await CopyWriter.open(loader.client(0), "visitors", ["id", "organization_id", "fingerprint", "contact_id", "device", "os", "browser", "country", "city", "first_seen_at", "last_seen_at"]);
  const sessions = await CopyWriter.open(loader.client(1), "visitor_sessions", ["id", "organization_id", "visitor_id", "started_at", "ended_at", "landing_url", "referrer", "utm_source", "utm_medium", "utm_campaign", "device", "country"]);
  const touch = await CopyWriter.open(loader.client(2), "touchpoints", ["id", "organization_id", "visitor_id", "session_id", "contact_id", "type", "url", "title", "occurred_at", "duration_sec", "scroll_depth", "utm_source", "utm_medium", "utm_campaign", "detail"]);
  const writers = [visitors, sessions, touch];
  const conversions: string[] = [];
  let tpId = 0;
  for (const s of stores) {
    const org = s.org;
    const rng = new Rng(ctx.seed, `web:${org.slug}`);
    const site = SITES[org.slug]!;
    const markets = new Weighted(org.markets);
    const sent = plans[s.orgIndex]!.filter((c) => c.sentAt === c.sentAt && c.sentAt <= tl.now);
    const size = ctx.sizes[s.orgIndex]!;
    const fingerprints = new Set<string>();
    for (let v = 0; v < size.visitors; v++) {
      const id = rng.uuid();
      let fp = rng.hex(24);
      while (fingerprints.has(fp)) fp = rng.hex(24);
      fingerprints.add(fp);
      let first = Math.floor(tl.growthTime(rng, 1.8));
      const live = v < size.liveVisitors;
      // A quarter of the live visitors are on the site right now (last 5 minutes), the rest within 30.
      const liveStart = Math.floor(tl.now - (v % 4 === 0 ? rng.uniform(0.5, 4) : rng.uniform(5, 30)) * MINUTE);
      if (live) first = Math.min(first, liveStart);
      const avail = createdBy(s, first + 30 * DAY);
      const ci = rng.chance(0.25) && avail > 0 ? rng.int(avail) : -1;
      const device = DEVICES.pick(rng);
      const [os, browser] = AGENTS[device]!.pick(rng);
      const cc = ci >= 0 ? COUNTRY_CODES[s.country[ci]!]! : markets.pick(rng);
      const city = ci >= 0 ? s.cities[ci]! : country(cc).cities.pick(rng);
      const contactId = ci >= 0 ? s.ids[ci]! : NULL;
      // Sessions: most visitors come once, some return over the following weeks.
      const r = rng.next();
      const count = r < 0.58 ? 1 : r < 0.78 ? 2 : r < 0.88 ? 3 : rng.between(4, 8);
      const starts: number[] = [first];
      for (let k = 1; k < count; k++) {
        const next = starts[k - 1]! + 30 * MINUTE + rng.exp(6 * DAY);
        if (next > tl.now - MINUTE) break;
        starts.push(Math.floor(next));
      }
      if (live) {
        // The live session is the visitor's latest; earlier ones end well before it.
        while (starts.length > 1 && starts[starts.length - 1]! > liveStart - 30 * MINUTE) starts.pop();
        if (starts[starts.length - 1]! < liveStart - 30 * MINUTE) starts.push(liveStart);
        else starts[starts.length - 1] = liveStart;
      }
      let lastSeen = first;
      for (const start of starts) {
        const src = SOURCES.pick(rng);
        let utm: [string, string, string] | null = null;
        let camp: PlannedCampaign | undefined;
        if (src.utm === "message") {
          camp = recentCampaign(sent, start);
          if (camp) utm = [CHANNELS[camp.channel]!.toLowerCase(), CHANNELS[camp.channel] === "EMAIL" ? "email" : CHANNELS[camp.channel] === "SMS" ? "sms" : "message", camp.slug];
        } else if (src.utm) {
          camp = src.kind === "paid" || rng.chance(0.5) ? recentCampaign(sent, start) : undefined;
          utm = [src.utm[0], src.utm[1], camp ? camp.slug : src.utm[0] === "google" ? "brand-search" : "always-on"];
        }
        const steps = journey(rng, site, landingPage(rng, utm && src.utm === "message" ? "message" : src.kind));
        const sid = rng.uuid();
        let end = start;
        let written = 0;
        for (const [k, st] of steps.entries()) {
          const at = start + st.at;
          if (at > tl.now) break;
          const u = k === 0 && utm ? utm : null;
          touch.row(`${++tpId}\t${org.id}\t${id}\t${sid}\t${contactId}\t${st.type}\t${esc(st.url)}\t${esc(st.title)}\t${ts(at)}\t${st.duration ?? NULL}\t${st.scroll ?? NULL}\t${u ? u[0] : NULL}\t${u ? u[1] : NULL}\t${u ? esc(u[2]) : NULL}\t${opt(st.detail)}`);
          written++;
          end = Math.min(tl.now, at + (st.duration ?? 0) * 1000);
          lastSeen = at;
          if (st.conversion) {
            const v = conversionValue(rng, org.reportingCurrency, st.conversion);
            conversions.push(`${rng.uuid()}\t${org.id}\t${contactId}\t${id}\t${camp?.id ?? NULL}\t${NULL}\t${st.conversion}\t${v.value}\t${v.currency}\t${ts(at)}`);
          }
        }
        if (!written) continue;
        // A session whose last touchpoint is under 5 minutes old is still open.
        const ended = tl.now - lastSeen < 5 * MINUTE ? NULL : ts(end);
        sessions.row(`${sid}\t${org.id}\t${id}\t${ts(start)}\t${ended}\t${esc(steps[0]!.url)}\t${opt(src.ref)}\t${utm ? utm[0] : NULL}\t${utm ? utm[1] : NULL}\t${utm ? esc(utm[2]) : NULL}\t${device}\t${cc}`);
      }
      visitors.row(`${id}\t${org.id}\t${fp}\t${contactId}\t${device}\t${os}\t${esc(browser)}\t${cc}\t${esc(city)}\t${ts(first)}\t${ts(lastSeen)}`);
      if (visitors.full || sessions.full || touch.full) await flushFull(writers);
    }
    ctx.log(`  ${org.slug}: ${size.visitors} visitors, ${tpId} touchpoints so far`);
  }
  const stats = await Promise.all(writers.map((w) => w.end()));
  for (const st of stats) loader.record(st);
  return conversions;
}
