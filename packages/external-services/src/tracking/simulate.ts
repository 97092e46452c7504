// Sandbox mode's simulated readers, so a demo campaign's opens, clicks and unsubscribes move: the
// sandbox SMTP server hands each accepted email here, and a reader follows the email's own tracking
// links (its pixel, its first tracked link, its List-Unsubscribe one-click POST) through the same
// code as a real reader — over HTTP to this process's host, or in-process to the same handler.
// Who does what is decided by the recipient's address, not by chance: at the sandbox domain
// `opens@` opens, `clicks@` opens and clicks, `unsubscribes@` unsubscribes with one click; any
// other address by a hash of it against the rates (default: 35% open, 8% of all also click, 0.5%
// unsubscribe), so a person behaves the same in every run. MESSAGING_SANDBOX_ENGAGEMENT=off turns
// it off; `open=0.4,click=0.1,unsubscribe=0.01` sets the rates.
import { createHash } from "node:crypto";
import { SANDBOX_EMAIL_DOMAIN } from "../sandbox/test-numbers.ts";
import { TRACKING_PATHS } from "./token.ts";

export interface EngagementRates { open: number; click: number; unsubscribe: number }
export const DEFAULT_ENGAGEMENT: EngagementRates = { open: 0.35, click: 0.08, unsubscribe: 0.005 };

export function engagementRates(raw: string | undefined): EngagementRates | null {
  const v = raw?.trim();
  if (!v) return DEFAULT_ENGAGEMENT;
  if (/^(off|false|0|no|none)$/i.test(v)) return null;
  const out = { ...DEFAULT_ENGAGEMENT };
  for (const part of v.split(",")) {
    const m = /^\s*(open|click|unsubscribe)\s*=\s*(0(?:\.\d+)?|1(?:\.0+)?)\s*$/.exec(part);
    if (!m) throw new Error(`MESSAGING_SANDBOX_ENGAGEMENT: "${part.trim()}" is not off or open|click|unsubscribe=<share 0–1>`);
    out[m[1] as keyof EngagementRates] = Number(m[2]);
  }
  return out;
}

export interface Engagement { open: boolean; click: boolean; unsubscribe: boolean }

export function plannedEngagement(recipient: string, rates: EngagementRates): Engagement {
  const r = recipient.trim().toLowerCase();
  const at = r.lastIndexOf("@");
  if (at > 0 && r.slice(at + 1) === SANDBOX_EMAIL_DOMAIN) {
    const local = r.slice(0, at);
    if (local === "opens") return { open: true, click: false, unsubscribe: false };
    if (local === "clicks") return { open: true, click: true, unsubscribe: false };
    if (local === "unsubscribes") return { open: false, click: false, unsubscribe: true };
  }
  const u = createHash("sha256").update(`sandbox reader\n${r}`).digest().readUInt32BE(0) / 2 ** 32;
  return { open: u < rates.open, click: u < Math.min(rates.click, rates.open), unsubscribe: u >= 1 - rates.unsubscribe };
}

export interface TrackingLinks { pixel: string | null; clicks: string[]; unsubscribe: string | null }

/** The email's own tracking links under `base`. */
export function trackingLinksOf(mail: { html: string | null; text: string | null; listUnsubscribe: string | null }, base: string): TrackingLinks {
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const find = (path: string, s: string | null) => [...(s ?? "").matchAll(new RegExp(`${esc}${path}/[A-Za-z0-9_-]+`, "g"))].map((m) => m[0]);
  const clicks = [...new Set([...find(TRACKING_PATHS.click, mail.html), ...find(TRACKING_PATHS.click, mail.text)])];
  const unsub = /<([^>]+)>/.exec(mail.listUnsubscribe ?? "")?.[1] ?? null;
  return { pixel: find(TRACKING_PATHS.open, mail.html)[0] ?? null, clicks, unsubscribe: unsub && unsub.startsWith(base) ? unsub : null };
}

export interface ReaderStep { method: "GET" | "POST"; url: string; body?: string }

export function readerSteps(plan: Engagement, links: TrackingLinks): ReaderStep[] {
  const steps: ReaderStep[] = [];
  if (plan.open && links.pixel) steps.push({ method: "GET", url: links.pixel });
  if (plan.click && links.clicks[0]) steps.push({ method: "GET", url: links.clicks[0] });
  if (plan.unsubscribe && links.unsubscribe) steps.push({ method: "POST", url: links.unsubscribe, body: "List-Unsubscribe=One-Click" });
  return steps;
}
