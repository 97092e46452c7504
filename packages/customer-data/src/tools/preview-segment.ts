import { defineTool, piiPolicy } from "@marketsage/core";
import { z } from "zod";
import { Prisma } from "@marketsage/db";
import { CONTACT_COLUMNS, reachCounts, roundRate, type ContactRow } from "@marketsage/domain";
import { summarize } from "../queries/contacts.ts";
import { CustomerSummary } from "../schemas.ts";
import { compileOverFacts, contactTotal, newestMatching } from "../segments/facts.ts";
import { describeRule } from "../segments/describe.ts";
import { parseRule, RULE_GRAMMAR } from "../segments/rules.ts";
import { at, customerLine, lines, maskedNote } from "../render.ts";

export const previewSegment = defineTool({
  name: "preview_segment",
  title: "Preview a segment",
  description:
    "Evaluate rules without saving: matches, share (0–1), reach, a sample, and the rules in words (check the intent). " +
    RULE_GRAMMAR,
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    rules: z.record(z.string(), z.unknown()).describe("A rule, as in the description."),
    sample_size: z.number().int().min(0).max(50).default(10),
  }),
  output: z.object({
    description: z.string(),
    count: z.number().int(),
    total_customers: z.number().int(),
    share: z.number(),
    reachability: z.object({ email: z.number().int(), sms: z.number().int(), whatsapp: z.number().int() }),
    sample: z.array(CustomerSummary),
    evaluated_at: z.string(),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const rule = parseRule(input.rules);
    // Evaluated over contact_facts (narrow rows with each contact's latest events): the counts in
    // one statement, the sample along the newest-first index beside it, the total from the
    // organization's kept count.
    const member = await compileOverFacts(ctx.db, ctx.org, rule, now);
    const figures = ctx.db.$queryRaw<Array<{ members: number; email: number; sms: number; whatsapp: number }>>`
      select count(*)::int as members, ${reachCounts(Prisma.sql`c.reach`)}
        from contact_facts c where c.organization_id = ${ctx.org.id}::uuid and ${member}`.then((r) => r[0]!);
    const members = figures.then((f) => f.members);
    members.catch(() => undefined); // the sample may not wait for it; Promise.all reports the failure
    const [reach, sampleIds, n] = await Promise.all([
      figures,
      newestMatching(ctx.db, ctx.org.id, member, input.sample_size, members),
      contactTotal(ctx.db, ctx.org.id),
    ]);
    const byId = new Map(
      sampleIds.length
        ? (await ctx.db.$queryRaw<ContactRow[]>`select ${CONTACT_COLUMNS} from contacts c
             where c.organization_id = ${ctx.org.id}::uuid and c.id = any(${sampleIds}::uuid[])`).map((r) => [r.id, r])
        : [],
    );
    const sample = sampleIds.map((id) => byId.get(id)).filter((r): r is ContactRow => r !== undefined);
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    return {
      description: describeRule(rule),
      count: reach.members,
      total_customers: n,
      share: n ? roundRate(reach.members / n) : 0,
      reachability: { email: reach.email, sms: reach.sms, whatsapp: reach.whatsapp },
      sample: sample.map((r) => summarize(r, pii)),
      evaluated_at: now.toISOString(),
      pii_masked: pii.masked,
    };
  },
  render: (o) =>
    lines(
      `${o.count} of ${o.total_customers} customers (${(o.share * 100).toFixed(2)}%) — ${o.description}`,
      `Reachable: email ${o.reachability.email}, SMS ${o.reachability.sms}, WhatsApp ${o.reachability.whatsapp}; evaluated ${at(o.evaluated_at)}.`,
      o.sample.length ? "Sample, newest first:" : "",
      o.sample.map((c) => `- ${customerLine(c)}`),
      o.sample.length ? maskedNote(o.pii_masked) : "",
    ),
});
