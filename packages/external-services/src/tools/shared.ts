// What the external-services tools share: input pieces (recipient, variables, the WhatsApp
// template), output pieces (money, problems, a message), and their text.
import { piiPolicy, type ToolContext } from "@marketsage/core";
import { z } from "zod";
import type { Money } from "../providers/types.ts";
import { messagingFor, type MessagingService } from "../service.ts";
import type { Problem } from "../validate/message.ts";

export const ChannelInput = z.enum(["EMAIL", "SMS", "WHATSAPP"]);
export const ProviderName = z.enum(["africastalking", "twilio", "smtp", "whatsapp"]);

export const recipientInput = {
  to: z.string().trim().min(3).max(254).optional().describe("E.164 phone or email; or contact_id."),
  contact_id: z.uuid().optional(),
};

export const Variables = z
  .record(z.string(), z.string().max(1000))
  .optional()
  .describe("Merge values the contact lacks.");

export const WhatsAppTemplateInput = z
  .object({
    name: z.string().trim().min(1).max(512),
    language: z.string().trim().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, { error: "a language code such as en or en_US" }).default("en"),
    params: z.array(z.string().max(1024)).max(20).default([]).describe("Body {{1}}, {{2}}…"),
  })
  .describe("Approved template (outside the 24 h window).");

export const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
export const ProblemOut = z.object({ code: z.string(), message: z.string(), fix: z.string() });

export const money = (m: Money | null | undefined): string => (m ? `${m.amount} ${m.currency}` : "unknown");

export const problems = (label: string, ps: readonly Problem[]): string[] => (ps.length ? [`${label}:`, ...ps.map((p) => `- ${p.code}: ${p.message} → ${p.fix}`)] : []);

/** The recipient as this caller may see it (masked without contacts:pii). */
export function shownAddress(ctx: Pick<ToolContext, "hasScope">, address: string | null): string | null {
  const pii = piiPolicy(ctx.hasScope("contacts:pii"));
  return address === null ? null : address.includes("@") ? pii.email(address) : pii.phone(address);
}

/** The messaging service of this process (read tools and tools with transaction "own" have the pooled client). */
export function serviceOf(ctx: ToolContext): MessagingService {
  if (!ctx.client) throw new Error(`${ctx.tool} has no pooled client: declare transaction "own"`);
  return messagingFor(ctx.client, { log: ctx.log });
}
