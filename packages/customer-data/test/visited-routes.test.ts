// The `visited` rule reads identified page views by URL route (migration visited_routes). Its
// counts must equal a plain scan of the touchpoints with `url ~ urlPatternRegex(pattern)` (the
// definition), for every pattern, count and window — on the seeded data and on URLs written to
// catch the route's edges (absolute URLs, queries, fragments, trailing slashes, `*`, other
// organizations' and anonymous views, views after now).
import { beforeAll, describe, expect, it } from "vitest";
import { urlPatternRegex } from "@marketsage/domain";
import { ORG_A, ORG_B, useCustomerData } from "./setup.ts";

const cd = useCustomerData();
const DAY = 86_400_000;

/** The definition, by hand: contacts of the org with ≥ n page views matching the pattern in (now − days, now]. */
async function reference(org: string, pattern: string, n: number, days?: number): Promise<number> {
  const [r] = await cd.q<{ n: number }>(
    `select count(*)::int n from (
       select t.contact_id from touchpoints t join contacts c on c.id = t.contact_id and c.organization_id = $1
        where t.organization_id = $1 and t.type = 'PAGEVIEW' and t.url ~ $2 and t.occurred_at <= $4 and ($5::int is null or t.occurred_at >= $4::timestamptz - make_interval(days => $5::int))
        group by t.contact_id having count(*) >= $3) x`,
    [org, urlPatternRegex(pattern), n, cd.now, days ?? null],
  );
  return r!.n;
}

const preview = async (org: typeof ORG_A, pattern: string, n: number, days?: number) =>
  (await cd.call("ADMIN", "preview_segment", { rules: { behavior: "visited", url_pattern: pattern, min_count: n, ...(days ? { within_days: days } : {}) }, sample_size: 1 }, org)).count as number;

describe("visited by route equals the plain scan", () => {
  beforeAll(async () => {
    // Edge URLs on a few contacts of org A (and one view of org B's contact), identified page views.
    const contacts = (await cd.q<{ id: string }>(`select id::text from contacts where organization_id = $1 order by id limit 4`, [ORG_A.id])).map((r) => r.id);
    const [b] = await cd.q<{ id: string }>(`select id::text from contacts where organization_id = $1 order by id limit 1`, [ORG_B.id]);
    const [v] = await cd.q<{ id: string }>(`select id::text from visitors where organization_id = $1 limit 1`, [ORG_A.id]);
    const [vb] = await cd.q<{ id: string }>(`select id::text from visitors where organization_id = $1 limit 1`, [ORG_B.id]);
    const urls = [
      "https://shop.test/pricing", "https://shop.test/pricing/", "https://shop.test/pricing?plan=pro", "https://shop.test/pricing#faq",
      "https://shop.test/pricing/enterprise", "https://shop.test/Pricing", "/blog/", "/blog", "/blog/a/b?x=/y", "https://x.test?y/pricing",
      "https://shop.test", "/products/phone-x/reviews", "/products/phone-x/reviews/", "/products//reviews",
    ];
    let k = 0;
    for (const [i, url] of urls.entries()) {
      for (const c of contacts.slice(0, 1 + (i % 4))) {
        await cd.q(
          `insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at) values ($1, $2, $3, 'PAGEVIEW', $4, $5)`,
          [ORG_A.id, v!.id, c, url, new Date(cd.now.getTime() - (++k % 40) * DAY - 1_000)],
        );
      }
    }
    // A view in the future (after now) and an anonymous one do not count; org B's never counts for A.
    await cd.q(`insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at) values ($1, $2, $3, 'PAGEVIEW', '/pricing', $4)`, [ORG_A.id, v!.id, contacts[0], new Date(cd.now.getTime() + DAY)]);
    await cd.q(`insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at) values ($1, $2, null, 'PAGEVIEW', '/pricing', $3)`, [ORG_A.id, v!.id, new Date(cd.now.getTime() - DAY)]);
    await cd.q(`insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at) values ($1, $2, $3, 'PAGEVIEW', '/pricing', $4)`, [ORG_B.id, vb!.id, b!.id, new Date(cd.now.getTime() - DAY)]);
    await cd.q(`vacuum analyze touchpoints`);
  });

  const PATTERNS = ["/pricing", "/pricing*", "/pricing/*", "/blog/*", "/blog", "/products/*/reviews", "/products/*", "/", "/*", "https://other.test/pricing", "/checkout", "/nowhere"];
  it.each(PATTERNS)("%s, counts 1–3, windows 7, 30, 90 days and all time, both organizations", async (pattern) => {
    for (const org of [ORG_A, ORG_B]) {
      for (const n of [1, 2, 3]) {
        for (const days of [7, 30, 90, undefined]) {
          expect(await preview(org, pattern, n, days), `${org.slug} ${pattern} ≥${n} in ${days ?? "all"} days`).toBe(await reference(org.id, pattern, n, days));
        }
      }
    }
  });

  it("finds the edge fixtures (the test would pass vacuously without them)", async () => {
    expect(await reference(ORG_A.id, "/pricing", 1, 90)).toBeGreaterThan(0);
    expect(await reference(ORG_A.id, "/blog/*", 1)).toBeGreaterThan(0);
    expect(await reference(ORG_A.id, "/products/*/reviews", 1)).toBeGreaterThan(0);
  });

  it("a pattern with a literal ? still counts exactly (the plain scan)", async () => {
    await cd.q(`insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at)
                select $1, v.id, c.id, 'PAGEVIEW', '/search?q', $2 from (select id from visitors where organization_id = $1 limit 1) v, (select id from contacts where organization_id = $1 order by id limit 1) c`,
      [ORG_A.id, new Date(cd.now.getTime() - DAY)]);
    expect(await preview(ORG_A, "/search?q", 1, 30)).toBe(await reference(ORG_A.id, "/search?q", 1, 30));
    expect(await reference(ORG_A.id, "/search?q", 1, 30)).toBe(1);
  });
});
