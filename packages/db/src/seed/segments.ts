// segments: static lists (with segment_members whose added_at/removed_at make growth over a range
// meaningful) and rule segments in the customer-data DSL (their members are materialized by the
// customer-data package, so none are inserted here).
import type { SeedContext } from "./context.ts";
import { CopyWriter, NULL, esc, flushFull } from "./copy.ts";
import { Rng } from "./prng.ts";
import { tagBit, type OrgContacts } from "./store.ts";
import { DAY, ts } from "./time.ts";

export interface PlannedSegment {
  id: string;
  name: string;
  description: string;
  rules: unknown | null;
  createdAt: number;
  /** Static lists: who belongs (by contact index). */
  member?: (s: OrgContacts, i: number, rng: Rng) => boolean;
}

function plan(rng: Rng, slug: string, start: number, now: number): PlannedSegment[] {
  const at = (days: number) => start + days * DAY;
  const iso = (t: number) => new Date(t).toISOString();
  const has = (t: Parameters<typeof tagBit>[0]) => (s: OrgContacts, i: number) => (s.tags[i]! & tagBit(t)) !== 0;
  const mk = (name: string, description: string, createdAt: number, rules: unknown | null, member?: PlannedSegment["member"]): PlannedSegment =>
    ({ id: rng.uuid(), name, description, rules, createdAt: Math.min(createdAt, now - DAY), ...(member ? { member } : {}) });
  if (slug === "savanna-fintech") {
    return [
      mk("Beta testers", "Customers who joined the app beta programme (static list).", at(20), null, (s, i, r) => has("app-user")(s, i) && r.chance(0.35)),
      mk("Merchant partners", "Merchants onboarded by the sales team (static list).", at(35), null, (s, i) => has("b2b")(s, i) || has("wholesale")(s, i)),
      mk("Event 2026 attendees", "Registered at Savanna Money Summit 2026 (static list).", at(150), null, has("event-2026")),
      mk("Nairobi active users", "Kenyan customers in Nairobi who clicked a message in the last 30 days.", at(60),
        { all: [{ field: "country", op: "eq", value: "KE" }, { field: "city", op: "eq", value: "Nairobi" }, { behavior: "message_event", event: "CLICKED", within_days: 30, min_count: 1 }] }),
      mk("Pricing page returners", "Visited /pricing at least twice in the last 30 days.", at(90), { behavior: "visited", url_pattern: "/pricing", min_count: 2, within_days: 30 }),
      mk("High value customers", "At least one conversion worth KES 10,000 or more.", at(45), { behavior: "converted", min_value: 10000, min_count: 1 }),
      mk("East Africa WhatsApp subscribers", "Kenya, Uganda, Tanzania and Rwanda, subscribed to WhatsApp.", at(100),
        { all: [{ field: "country", op: "in", value: ["KE", "UG", "TZ", "RW"] }, { behavior: "consent", channel: "WHATSAPP", state: "subscribed" }] }),
    ];
  }
  return [
    mk("VIP list (imported)", "Top customers imported from the POS system (static list).", at(10), null, (s, i, r) => has("vip")(s, i) || (has("loyalty")(s, i) && r.chance(0.25))),
    mk("Event 2026 attendees", "Registered at the Lagos Shopping Festival 2026 (static list).", at(150), null, has("event-2026")),
    mk("Wholesale partners", "Retailers and resellers buying wholesale (static list).", at(30), null, (s, i) => has("wholesale")(s, i) || has("b2b")(s, i)),
    mk("Lagos engaged shoppers", "Nigerian contacts in Lagos who opened a message in the last 30 days.", at(40),
      { all: [{ field: "country", op: "in", value: ["NG"] }, { field: "city", op: "eq", value: "Lagos" }, { behavior: "message_event", event: "OPENED", within_days: 30, min_count: 1 }] }),
    mk("Pricing page returners", "Visited /pricing at least twice in the last 30 days.", at(80), { behavior: "visited", url_pattern: "/pricing", min_count: 2, within_days: 30 }),
    mk("High value customers", "At least one conversion worth ₦50,000 or more.", at(60), { behavior: "converted", min_value: 50000, min_count: 1 }),
    mk("WhatsApp-first Nigeria & Ghana", "Active contacts in NG and GH subscribed to WhatsApp.", at(120),
      { all: [{ field: "country", op: "in", value: ["NG", "GH"] }, { field: "status", op: "eq", value: "ACTIVE" }, { behavior: "consent", channel: "WHATSAPP", state: "subscribed" }] }),
    mk("Lapsed customers", "Joined over 180 days ago and no email opened in the last 90 days.", at(200),
      { all: [{ field: "created_at", op: "before", value: iso(now - 180 * DAY) }, { not: { behavior: "message_event", event: "OPENED", channel: "EMAIL", within_days: 90, min_count: 1 } }] }),
  ];
}

export async function loadSegments(ctx: SeedContext, stores: readonly OrgContacts[]): Promise<PlannedSegment[][]> {
  const { loader, tl } = ctx;
  const segs = await CopyWriter.open(loader.client(0), "segments", ["id", "organization_id", "name", "description", "rules", "created_at", "updated_at"]);
  const members = await CopyWriter.open(loader.client(1), "segment_members", ["segment_id", "contact_id", "organization_id", "added_at", "removed_at"]);
  const out: PlannedSegment[][] = [];
  for (const s of stores) {
    const rng = new Rng(ctx.seed, `segments:${s.org.slug}`);
    const planned = plan(rng, s.org.slug, tl.start, tl.now);
    out.push(planned);
    for (const seg of planned) {
      segs.row([seg.id, s.org.id, esc(seg.name), esc(seg.description), seg.rules == null ? NULL : esc(JSON.stringify(seg.rules)), ts(seg.createdAt), ts(seg.createdAt)].join("\t"));
      if (!seg.member) continue;
      // Lists grow in batches (imports, event registrations) plus a trickle of single additions.
      const batches = [0.15, 0.45, 0.8].map((f) => seg.createdAt + f * (tl.now - seg.createdAt));
      for (let i = 0; i < s.n; i++) {
        if (!seg.member(s, i, rng)) continue;
        const from = Math.max(s.created[i]!, seg.createdAt);
        let added = rng.chance(0.6) ? (batches.find((b) => b >= from) ?? from) : from + rng.exp(15 * DAY);
        added = Math.min(added + rng.uniform(0, 3_600_000), tl.now);
        const removed = rng.chance(0.06) && tl.now - added > 2 * DAY ? added + DAY + rng.next() * (tl.now - added - DAY) : NaN;
        members.row([seg.id, s.ids[i]!, s.org.id, ts(added), removed === removed ? ts(removed) : NULL].join("\t"));
        if (members.full) await flushFull([members]);
      }
    }
  }
  const [a, b] = await Promise.all([segs.end(), members.end()]);
  loader.record(a);
  loader.record(b);
  return out;
}
