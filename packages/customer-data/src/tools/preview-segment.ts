import { defineTool, piiPolicy } from "@marketsage/core";
import { z } from "zod";
import { CONTACT_COLUMNS, summarize, type ContactRow } from "../queries/contacts.ts";
import { segmentFigures } from "../queries/segment-stats.ts";
import { CustomerSummary } from "../schemas.ts";
import { compileRule } from "../segments/compile.ts";
import { describeRule } from "../segments/describe.ts";
import { parseRule, RULE_GRAMMAR } from "../segments/rules.ts";

export const previewSegment = defineTool({
  name: "preview_segment",
  title: "Preview a segment",
  description:
    "Evaluate segment rules against the organization's customers without saving anything: how many match, the share " +
    "of all customers, how many each channel can reach, a sample, and the rules in words so you can check the intent. " +
    RULE_GRAMMAR,
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    rules: z.record(z.string(), z.unknown()).describe("The rule set (see the description for the grammar)."),
    sample_size: z.number().int().min(0).max(50).default(10),
  }),
  output: z.object({
    description: z.string(),
    count: z.number().int(),
    total_customers: z.number().int(),
    share: z.number().describe("count / total_customers, 0–1."),
    reachability: z.object({ email: z.number().int(), sms: z.number().int(), whatsapp: z.number().int() }),
    sample: z.array(CustomerSummary),
    evaluated_at: z.string(),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const rule = parseRule(input.rules);
    const member = compileRule(rule, { orgId: ctx.org.id, currency: ctx.org.reportingCurrency, now });
    // One statement evaluates the rule once for the count, the reach and the sample's ids.
    const [figures, total] = await Promise.all([
      segmentFigures(ctx.db, ctx.org, { member }, { sample: input.sample_size }),
      ctx.db.$queryRaw<Array<{ n: number }>>`select count(*)::int as n from contacts c where c.organization_id = ${ctx.org.id}::uuid`,
    ]);
    const reach = figures.reach;
    const byId = new Map(
      figures.sampleIds.length
        ? (await ctx.db.$queryRaw<ContactRow[]>`select ${CONTACT_COLUMNS} from contacts c
             where c.organization_id = ${ctx.org.id}::uuid and c.id = any(${figures.sampleIds}::uuid[])`).map((r) => [r.id, r])
        : [],
    );
    const sample = figures.sampleIds.map((id) => byId.get(id)).filter((r): r is ContactRow => r !== undefined);
    const n = total[0]?.n ?? 0;
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    return {
      description: describeRule(rule),
      count: reach.members,
      total_customers: n,
      share: n ? Math.round((reach.members / n) * 10_000) / 10_000 : 0,
      reachability: { email: reach.email, sms: reach.sms, whatsapp: reach.whatsapp },
      sample: sample.map((r) => summarize(r, pii)),
      evaluated_at: now.toISOString(),
      pii_masked: pii.masked,
    };
  },
  render: (o) =>
    `${o.count} of ${o.total_customers} customers (${(o.share * 100).toFixed(1)}%) — ${o.description}\n` +
    `Reachable: email ${o.reachability.email}, SMS ${o.reachability.sms}, WhatsApp ${o.reachability.whatsapp}\n` +
    o.sample.map((c) => `- ${c.first_name ?? ""} ${c.last_name ?? ""} (${c.country}, id ${c.id})`).join("\n"),
});
