// contacts and their append-only consent_events, generated in one pass (two COPYs side by side).
// The contacts' current-consent columns are computed here from the same events, and the trigger
// that would otherwise maintain them row by row is disabled for the bulk load (it would issue one
// UPDATE per event); the columns therefore equal what marketsage_rebuild_consent_state computes.
import type { SeedContext } from "./context.ts";
import { CopyWriter, NULL, esc, opt, flushFull } from "./copy.ts";
import { demoUserId } from "./demo-accounts.ts";
import { COUNTRY_CODES, country, countryIndex, mobileNumber } from "./geo.ts";
import { asciiSlug, companyName, nameBook } from "./names.ts";
import { Rng, Weighted } from "./prng.ts";
import { ACTIVE, ARCHIVED, BOUNCED, CHANNELS, EMAIL, SMS, STATUSES, TAGS, UNSUBSCRIBED, WHATSAPP, type OrgContacts } from "./store.ts";
import { DAY, HOUR, MINUTE, ts } from "./time.ts";

const CONTACT_COLUMNS = ["id", "organization_id", "email", "phone", "first_name", "last_name", "company", "country", "city", "time_zone", "tags", "status", "source",
  "consent_email", "consent_email_at", "consent_sms", "consent_sms_at", "consent_whatsapp", "consent_whatsapp_at", "created_at", "updated_at"];
const CONSENT_COLUMNS = ["id", "organization_id", "contact_id", "channel", "action", "source", "reason", "actor_user_id", "occurred_at", "recorded_at"];

const SOURCES = new Weighted<string>([["website", 30], ["whatsapp", 20], ["import", 20], ["pos", 15], ["referral", 15]]);
/** The consent source recorded at sign-up, by how the contact came in. */
const SIGNUP_SOURCE: Record<string, string> = { website: "signup_form", whatsapp: "whatsapp_optin", import: "import", pos: "pos_signup", referral: "referral_form" };
const STATUS_W = new Weighted<number>([[ACTIVE, 88], [UNSUBSCRIBED, 5], [BOUNCED, 3], [ARCHIVED, 4]]);
const TAG_P: Array<[number, number]> = TAGS.map((t, i) => [i, ({ vip: 0.05, wholesale: 0.04, newsletter: 0.3, "app-user": 0.2, loyalty: 0.15, "event-2026": 0.06, b2b: 0.04, "first-order": 0.1, "black-friday-2025": 0.06, "ramadan-shopper": 0.04 } as Record<string, number>)[t] ?? 0.05]);
const TLD: Record<string, string> = { NG: "com.ng", KE: "co.ke", GH: "com.gh", ZA: "co.za", EG: "com.eg", UG: "co.ug", TZ: "co.tz", RW: "rw", CI: "ci", SN: "sn" };
const UNSUB_REASON: Record<number, Array<string | null>> = {
  [EMAIL]: ["too many emails", "not relevant to me", null, null],
  [SMS]: ["STOP reply", null],
  [WHATSAPP]: ["opted out in chat", "too many messages", null],
};

interface ConsentEv {
  t: number;
  ch: number;
  action: "SUBSCRIBED" | "UNSUBSCRIBED";
  source: string;
  reason: string | null;
  actor: string | null;
}

function emailFor(rng: Rng, first: string, last: string, cc: string, company: string | null, taken: Set<string>): string {
  const f = asciiSlug(first), l = asciiSlug(last);
  const domain = company && rng.chance(0.3) ? `${asciiSlug(company).slice(0, 18)}.${TLD[cc] ?? "com"}` : country(cc).mailDomains.pick(rng);
  const r = rng.next();
  let local = r < 0.35 ? `${f}.${l}` : r < 0.55 ? `${f}${l}` : r < 0.65 ? `${f}_${l}` : r < 0.75 ? `${f[0]}${l}` : r < 0.85 ? `${l}.${f}` : `${f}${rng.between(1, 99)}`;
  if (rng.chance(0.3)) local += String(rng.between(1970, 2006) % 100).padStart(2, "0");
  let e = `${local}@${domain}`;
  while (taken.has(e)) e = `${local}${rng.between(1, 9999)}@${domain}`;
  taken.add(e);
  return e;
}

function phoneFor(rng: Rng, cc: string, taken: Set<string>): string {
  let p = mobileNumber(rng, country(cc));
  while (taken.has(p)) p = mobileNumber(rng, country(cc));
  taken.add(p);
  return p;
}

/** Consent history for one contact; also fills the store's sub/unsub/resub times. */
function consentHistory(rng: Rng, s: OrgContacts, i: number, source: string, now: number, admin: string): ConsentEv[] {
  const evs: ConsentEv[] = [];
  const created = s.created[i]!;
  const cc = COUNTRY_CODES[s.country[i]!]!;
  const waHeavy = cc === "NG" || cc === "KE";
  const has = [s.emails[i] != null, s.phones[i] != null, s.phones[i] != null];
  const pSub = [0.85, 0.8, source === "whatsapp" ? 1 : waHeavy ? 0.75 : 0.55];
  const subscribed: number[] = [];
  for (let ch = 0; ch < 3; ch++) {
    if (!has[ch] || !rng.chance(pSub[ch]!)) continue; // never asked on this channel
    let t = created + (ch === EMAIL ? rng.uniform(5_000, 10 * MINUTE) : rng.uniform(1_000, MINUTE));
    let src = SIGNUP_SOURCE[source]!;
    if (ch === WHATSAPP && source !== "whatsapp" && rng.chance(0.6)) {
      t = created + rng.exp(20 * DAY); // opted in to WhatsApp later, from a click-to-chat ad or receipt
      src = "whatsapp_optin";
    }
    if (t > now) continue;
    evs.push({ t, ch, action: "SUBSCRIBED", source: src, reason: null, actor: src === "import" ? admin : null });
    s.sub[i * 3 + ch] = t;
    subscribed.push(ch);
  }
  const unsubscribe = (ch: number, after: number) => {
    if (now - after < 2 * HOUR) return NaN;
    const t = after + HOUR + rng.next() * (now - after - HOUR);
    const r = rng.next();
    const source = ch === EMAIL ? (r < 0.8 ? "email_link" : "preference_center") : ch === SMS ? (r < 0.8 ? "inbound_sms" : "preference_center") : "whatsapp";
    if (ch === SMS && source === "inbound_sms") s.stopSms[i] = 1;
    if (source !== "preference_center") s.unsubMsg[i] = s.unsubMsg[i]! | (1 << ch);
    evs.push({ t, ch, action: "UNSUBSCRIBED", source, reason: source === "inbound_sms" ? "STOP reply" : rng.pick(UNSUB_REASON[ch]!), actor: null });
    s.unsub[i * 3 + ch] = t;
    return t;
  };
  if (s.status[i] === UNSUBSCRIBED) {
    // Status UNSUBSCRIBED always has the unsubscribe events behind it.
    for (const ch of subscribed) unsubscribe(ch, s.sub[i * 3 + ch]!);
    if (!subscribed.length || evs.every((e) => e.action === "SUBSCRIBED")) {
      const ch = has[EMAIL] ? EMAIL : SMS;
      const t = created + rng.uniform(MINUTE, Math.max(MINUTE, Math.min(30 * DAY, now - created)));
      evs.push({ t: Math.min(t, now), ch, action: "UNSUBSCRIBED", source: "preference_center", reason: "asked to be removed", actor: null });
      s.unsub[i * 3 + ch] = Math.min(t, now);
    }
  } else if (subscribed.length && rng.chance(0.08)) {
    const ch = rng.pick(subscribed);
    const tU = unsubscribe(ch, s.sub[i * 3 + ch]!);
    if (tU === tU && rng.chance(0.3) && now - tU > 2 * DAY) {
      const t = tU + DAY + rng.next() * (now - tU - DAY);
      evs.push({ t, ch, action: "SUBSCRIBED", source: ch === WHATSAPP ? "whatsapp_optin" : ch === SMS ? "inbound_sms" : "preference_center", reason: "re-subscribed", actor: null });
      s.resub[i * 3 + ch] = t;
    }
  }
  evs.sort((a, b) => a.t - b.t);
  return evs;
}

export async function loadContacts(ctx: SeedContext): Promise<OrgContacts[]> {
  const { loader, tl, log } = ctx;
  const contacts = await CopyWriter.open(loader.client(0), "contacts", CONTACT_COLUMNS);
  // The bulk load computes consent columns itself (see the file comment), so the row trigger is off.
  const consent = await CopyWriter.open(loader.client(1), "consent_events", CONSENT_COLUMNS, {
    before: ["ALTER TABLE consent_events DISABLE TRIGGER USER"],
    after: ["ALTER TABLE consent_events ENABLE TRIGGER USER"],
  });
  const stores: OrgContacts[] = [];
  let consentId = 0;
  for (const [oi, org] of ctx.orgs.entries()) {
    const n = ctx.sizes[oi]!.contacts;
    const rng = new Rng(ctx.seed, `contacts:${org.slug}`);
    const markets = new Weighted(org.markets);
    const created = new Float64Array(n);
    for (let i = 0; i < n; i++) created[i] = Math.floor(tl.growthTime(rng, 1.7));
    created.sort();
    const s: OrgContacts = {
      org, orgIndex: oi, n, ids: new Array<string>(n), emails: new Array<string | null>(n), phones: new Array<string | null>(n), cities: new Array<string>(n),
      country: new Uint8Array(n), status: new Uint8Array(n), created, eng: new Float32Array(n), tags: new Uint16Array(n),
      sub: new Float64Array(n * 3).fill(NaN), unsub: new Float64Array(n * 3).fill(NaN), resub: new Float64Array(n * 3).fill(NaN), stopSms: new Uint8Array(n), unsubMsg: new Uint8Array(n),
    };
    const emails = new Set<string>(), phones = new Set<string>();
    const admin = demoUserId(oi, 1);
    for (let i = 0; i < n; i++) {
      const id = rng.uuid();
      const cc = markets.pick(rng);
      const C = country(cc);
      const book = nameBook(cc);
      const first = rng.pick(book.first), last = rng.pick(book.last);
      const city = C.cities.pick(rng);
      const company = rng.chance(0.3) ? companyName(rng, last, city) : null;
      const status = STATUS_W.pick(rng);
      let hasEmail = status === BOUNCED || rng.chance(0.9);
      const hasPhone = rng.chance(0.95) || !hasEmail;
      if (!hasEmail && !hasPhone) hasEmail = true;
      const email = hasEmail ? emailFor(rng, first, last, cc, company, emails) : null;
      const phone = hasPhone ? phoneFor(rng, cc, phones) : null;
      let tags = 0;
      for (const [bit, p] of TAG_P) if (rng.chance(company && TAGS[bit] === "b2b" ? 0.25 : p)) tags |= 1 << bit;
      const source = SOURCES.pick(rng);
      s.ids[i] = id; s.emails[i] = email; s.phones[i] = phone; s.cities[i] = city;
      s.country[i] = countryIndex(cc); s.status[i] = status; s.tags[i] = tags;
      s.eng[i] = Math.min(3, Math.max(0.15, rng.logNormal(1, 0.55)));

      const evs = consentHistory(rng, s, i, source, tl.now, admin);
      const latest: Array<ConsentEv | undefined> = [undefined, undefined, undefined];
      for (const e of evs) {
        latest[e.ch] = e;
        const recorded = Math.min(tl.now, e.t + rng.uniform(20, 1500));
        consent.row([++consentId, org.id, id, CHANNELS[e.ch], e.action, e.source, opt(e.reason), e.actor ?? NULL, ts(e.t), ts(recorded)].join("\t"));
      }
      const updated = evs.length ? Math.max(created[i]!, evs[evs.length - 1]!.t) : created[i]!;
      const tagList = TAGS.filter((_, b) => tags & (1 << b));
      const cons = latest.flatMap((e) => (e ? [e.action, ts(e.t)] : [NULL, NULL]));
      contacts.row([id, org.id, opt(email), opt(phone), esc(first), esc(last), opt(company), cc, esc(city), C.tz, `{${tagList.join(",")}}`,
        STATUSES[status], source, ...cons, ts(created[i]!), ts(updated)].join("\t"));
      if (contacts.full || consent.full) await flushFull([contacts, consent]);
    }
    stores.push(s);
    log(`  ${org.slug}: ${n} contacts`);
  }
  const [a, b] = await Promise.all([contacts.end(), consent.end()]);
  loader.record(a);
  loader.record(b);
  return stores;
}
