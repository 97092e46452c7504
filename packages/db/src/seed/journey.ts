// Page-by-page journeys through a site. Transition weights make the funnel
// / → /pricing → FORM_SUBMIT on /signup → CONVERSION narrow at every step, send some visitors back
// to /pricing in later sessions, and end purchases on /checkout/complete.
import type { ConversionType } from "./money.ts";
import { Weighted, type Rng } from "./prng.ts";

export interface Site {
  name: string;
  products: string[];
  posts: string[];
}

export const SITES: Record<string, Site> = {
  "naija-retail": {
    name: "Naija Retail",
    products: ["ankara-print-dress", "agbada-set", "jollof-spice-mix", "shea-butter-cream", "tecno-camon-30", "infinix-hot-40", "solar-power-bank",
      "kente-tote-bag", "palm-oil-5l", "ofada-rice-10kg", "plantain-chips", "adire-scarf"],
    posts: ["shop-smart-on-salary-week", "detty-december-gift-guide", "ankara-styles-2026", "save-on-data-bundles", "owambe-outfit-ideas"],
  },
  "savanna-fintech": {
    name: "Savanna Fintech",
    products: ["savings-account", "mobile-loans", "merchant-payments", "mpesa-integration", "business-wallet", "virtual-cards"],
    posts: ["saving-with-chamas", "mpesa-vs-bank-transfers", "sme-cashflow-tips", "mobile-loans-explained"],
  },
};

export type TpType = "PAGEVIEW" | "CLICK" | "FORM_VIEW" | "FORM_START" | "FORM_SUBMIT" | "CONVERSION";

export interface Step {
  type: TpType;
  url: string;
  title: string;
  /** Offset from the session start, ms. */
  at: number;
  duration: number | null;
  scroll: number | null;
  detail: string | null;
  conversion?: ConversionType;
}

type Page = "/" | "/products" | "product" | "/pricing" | "blog" | "/signup" | "/checkout" | "/contact" | "/about" | "exit";
const NEXT: Record<string, Weighted<Page>> = {
  "/": new Weighted<Page>([["/products", 35], ["/pricing", 25], ["blog", 8], ["/about", 5], ["/contact", 4], ["exit", 23]]),
  "/products": new Weighted<Page>([["product", 60], ["/pricing", 8], ["/", 5], ["exit", 27]]),
  product: new Weighted<Page>([["product", 28], ["/products", 12], ["/pricing", 6], ["exit", 54]]),
  "/pricing": new Weighted<Page>([["/signup", 22], ["/contact", 8], ["/", 8], ["/products", 8], ["exit", 54]]),
  blog: new Weighted<Page>([["/products", 15], ["/pricing", 12], ["blog", 10], ["/", 8], ["exit", 55]]),
  "/about": new Weighted<Page>([["/contact", 25], ["/", 20], ["exit", 55]]),
};

export function landingPage(rng: Rng, kind: "organic" | "paid" | "direct" | "social" | "message"): Page {
  const r = rng.next();
  if (kind === "direct") return r < 0.7 ? "/" : r < 0.85 ? "/products" : "/pricing";
  if (kind === "organic") return r < 0.4 ? "/" : r < 0.75 ? "blog" : r < 0.9 ? "product" : "/pricing";
  if (kind === "paid") return r < 0.5 ? "product" : r < 0.8 ? "/pricing" : "/";
  if (kind === "message") return r < 0.55 ? "product" : r < 0.8 ? "/" : "/pricing";
  return r < 0.6 ? "product" : r < 0.85 ? "/" : "blog";
}

function urlOf(rng: Rng, site: Site, p: Page): string {
  if (p === "product") return `/products/${rng.pick(site.products)}`;
  if (p === "blog") return `/blog/${rng.pick(site.posts)}`;
  return p;
}

function titleOf(site: Site, url: string): string {
  const last = url.split("/").pop() ?? "";
  const nice = last.replace(/-/g, " ").replace(/^\w/, (c) => c.toUpperCase());
  if (url === "/") return `${site.name} – Home`;
  return `${nice || "Home"} – ${site.name}`;
}

/** One session's touchpoints starting on `landing`; the first is the landing pageview. */
export function journey(rng: Rng, site: Site, landing: Page): Step[] {
  const steps: Step[] = [];
  let at = 0;
  let page: Page = landing;
  const add = (type: TpType, url: string, secs: number, extra: Partial<Step> = {}) => {
    steps.push({ type, url, title: titleOf(site, url), at, duration: null, scroll: null, detail: null, ...extra });
    at += secs * 1000;
  };
  const form = (url: string, name: string, pStart: number, pSubmit: number): boolean => {
    add("FORM_VIEW", url, rng.uniform(2, 10), { detail: `{"form":"${name}"}` });
    if (!rng.chance(pStart)) return false;
    add("FORM_START", url, rng.uniform(10, 90), { detail: `{"form":"${name}"}` });
    if (!rng.chance(pSubmit)) return false;
    add("FORM_SUBMIT", url, rng.uniform(1, 4), { detail: `{"form":"${name}"}` });
    return true;
  };
  for (let k = 0; k < 9 && page !== "exit"; k++) {
    const url = urlOf(rng, site, page);
    const dur = Math.round(Math.min(900, rng.logNormal(page === "blog" ? 75 : 35, 0.8)));
    const scroll = Math.min(100, Math.max(5, Math.round(rng.logNormal(page === "blog" ? 65 : 45, 0.45))));
    add("PAGEVIEW", url, dur, { duration: dur, scroll });
    if (page === "/signup") {
      if (form(url, "signup", 0.7, 0.6) && rng.chance(0.8)) add("CONVERSION", "/welcome", 0, { detail: '{"goal":"signup"}', conversion: "signup" });
      break;
    }
    if (page === "/checkout") {
      if (form(url, "checkout", 0.75, 0.65) && rng.chance(0.85)) {
        const sub = site.name === "Savanna Fintech" && rng.chance(0.3);
        add("CONVERSION", "/checkout/complete", 0, { detail: `{"goal":"${sub ? "subscription" : "purchase"}"}`, conversion: sub ? "subscription" : "purchase" });
      }
      break;
    }
    if (page === "/contact") {
      form(url, "contact", 0.4, 0.6);
      break;
    }
    if (page === "product" && rng.chance(0.16)) {
      add("CLICK", url, rng.uniform(1, 5), { detail: '{"element":"add-to-cart"}' });
      page = "/checkout";
      continue;
    }
    if (page === "/pricing" && rng.chance(0.12)) {
      add("CLICK", url, rng.uniform(1, 5), { detail: '{"element":"start-free-trial"}' });
      page = "/signup";
      continue;
    }
    page = (NEXT[page] ?? NEXT["/"]!).pick(rng);
  }
  return steps;
}
