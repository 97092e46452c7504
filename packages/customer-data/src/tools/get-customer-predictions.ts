import { Prisma } from "@marketsage/db";
import { defineTool, NotFoundError, UserError } from "@marketsage/core";
import { z } from "zod";
import { MODEL_VERSION } from "../predictions/model.ts";
import { predictionFor } from "../predictions/stored.ts";
import { CustomerRef, findContact, roundMoney, roundRate, roundTo } from "@marketsage/domain";
import { PredictionOut } from "../schemas.ts";
import { loadSegment } from "../segments/membership.ts";
import { at, flat, lines, predictionLines } from "../render.ts";

const Distribution = z.object({
  scope: z.enum(["segment", "organization"]),
  segment_id: z.string().nullable(),
  model_version: z.string(),
  contacts: z.number().int().describe("Customers in scope."),
  with_prediction: z.number().int().describe("Of those, with a stored prediction."),
  risk_buckets: z.object({ low: z.number().int(), medium: z.number().int(), high: z.number().int() }),
  mean_churn_risk: z.number().nullable(),
  lifetime_value: z.object({ currency: z.string(), total: z.number(), p25: z.number().nullable(), p50: z.number().nullable(), p75: z.number().nullable(), p90: z.number().nullable() }),
  mean_engagement_score: z.number().nullable(),
  preferred_channel: z.record(z.string(), z.number().int()),
  next_best_action: z.record(z.string(), z.number().int()),
  oldest_computed_at: z.string().nullable(),
});

export const getCustomerPredictions = defineTool({
  name: "get_customer_predictions",
  title: "Customer predictions",
  description:
    `Model ${MODEL_VERSION} (recency, decayed frequency, spend) for one customer (id, email or phone): churn risk 0–1 ` +
    "(low < 0.3 ≤ medium < 0.6 ≤ high), 12-month value, engagement 0–100, preferred channel, next best action, " +
    "inputs (stored false: computed now). Without a customer: the distribution over segment_id or the organization. " +
    "Money in the organization's currency.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().optional(),
    email: z.string().max(254).optional(),
    phone: z.string().max(32).optional(),
    segment_id: z.uuid().optional(),
  }),
  output: z.object({ customer_id: z.string().nullable(), prediction: PredictionOut.nullable(), distribution: Distribution.nullable() }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const hasCustomer = input.id ?? input.email ?? input.phone;
    if (hasCustomer) {
      if (input.segment_id) throw new UserError("Give a customer (id, email or phone) or a segment_id, not both.");
      const ref = CustomerRef.safeParse({ id: input.id, email: input.email, phone: input.phone });
      if (!ref.success) throw new UserError("Give exactly one of id, email or phone.");
      const contact = await findContact(ctx.db, ctx.org, ref.data);
      const prediction = await predictionFor(ctx.db, ctx.org, contact.id, now);
      if (!prediction) throw new NotFoundError(`Customer ${contact.id}`);
      return { customer_id: contact.id, prediction, distribution: null };
    }
    const member = input.segment_id ? (await loadSegment(ctx.db, ctx.org, input.segment_id, now)).member : Prisma.sql`true`;
    const [d] = await ctx.db.$queryRaw<Array<Record<string, unknown>>>`
      select count(*)::int as contacts, count(p.id)::int as with_prediction,
             count(*) filter (where p.churn_risk < 0.3)::int as low,
             count(*) filter (where p.churn_risk >= 0.3 and p.churn_risk < 0.6)::int as medium,
             count(*) filter (where p.churn_risk >= 0.6)::int as high,
             avg(p.churn_risk)::float8 as mean_churn, avg(p.engagement_score)::float8 as mean_eng,
             coalesce(sum(p.lifetime_value), 0)::float8 as ltv_total,
             percentile_cont(array[0.25, 0.5, 0.75, 0.9]) within group (order by p.lifetime_value::float8) as q,
             min(p.computed_at) as oldest
        from contacts c left join predictions p on p.contact_id = c.id and p.model_version = ${MODEL_VERSION}
       where c.organization_id = ${ctx.org.id}::uuid and ${member}`;
    const counts = async (col: Prisma.Sql) =>
      Object.fromEntries(
        (
          await ctx.db.$queryRaw<Array<{ k: string; n: number }>>`
            select coalesce(${col}, 'NONE') as k, count(*)::int as n
              from contacts c join predictions p on p.contact_id = c.id and p.model_version = ${MODEL_VERSION}
             where c.organization_id = ${ctx.org.id}::uuid and ${member} group by 1 order by 2 desc`
        ).map((r) => [r.k, r.n]),
      );
    const q = (d!.q as number[] | null) ?? [];
    const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));
    const money = (x: unknown) => roundMoney(num(x)); // 2 decimals, as the stored lifetime_value
    const r4 = (x: unknown) => roundRate(num(x));
    return {
      customer_id: null,
      prediction: null,
      distribution: {
        scope: input.segment_id ? ("segment" as const) : ("organization" as const),
        segment_id: input.segment_id ?? null,
        model_version: MODEL_VERSION,
        contacts: d!.contacts as number,
        with_prediction: d!.with_prediction as number,
        risk_buckets: { low: d!.low as number, medium: d!.medium as number, high: d!.high as number },
        mean_churn_risk: r4(d!.mean_churn),
        lifetime_value: { currency: ctx.org.reportingCurrency, total: money(d!.ltv_total) ?? 0, p25: money(q[0]), p50: money(q[1]), p75: money(q[2]), p90: money(q[3]) },
        mean_engagement_score: roundTo(num(d!.mean_eng), 2),
        preferred_channel: await counts(Prisma.sql`p.preferred_channel::text`),
        next_best_action: await counts(Prisma.sql`p.next_best_action`),
        oldest_computed_at: d!.oldest ? (d!.oldest as Date).toISOString() : null,
      },
    };
  },
  render: (o) => {
    if (o.prediction) return lines(`Customer ${o.customer_id}:`, predictionLines(o.prediction));
    const d = o.distribution!;
    const v = d.lifetime_value;
    return lines(
      `Scope ${d.scope}${d.segment_id ? ` ${d.segment_id}` : ""}, model ${d.model_version}: ${d.with_prediction} of ${d.contacts} customers have a stored prediction (oldest computed ${at(d.oldest_computed_at)}).`,
      `Risk: ${d.risk_buckets.low} low, ${d.risk_buckets.medium} medium, ${d.risk_buckets.high} high; mean churn risk ${d.mean_churn_risk ?? "n/a"}; mean engagement ${d.mean_engagement_score ?? "n/a"}/100.`,
      `12-month value (${v.currency}): total ${v.total}, p25 ${v.p25 ?? "n/a"}, median ${v.p50 ?? "n/a"}, p75 ${v.p75 ?? "n/a"}, p90 ${v.p90 ?? "n/a"}.`,
      `Preferred channel: ${flat(d.preferred_channel) || "none"}. Next best action: ${flat(d.next_best_action) || "none"}.`,
    );
  },
});
