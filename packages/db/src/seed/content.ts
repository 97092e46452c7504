// Campaign themes per organization and season (Black Friday, Detty December, Ramadan, Easter,
// salary week, national holidays...), and the subject/content each channel gets from a theme.
import type { Rng } from "./prng.ts";
import { DAY } from "./time.ts";

export interface Theme {
  name: string;
  subject: string;
  line: string;
  /** When the theme fits (UTC date); undefined = any time. */
  when?: (d: Date) => boolean;
}

const md = (d: Date) => (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
const between = (a: number, b: number) => (d: Date) => md(d) >= a && md(d) <= b;
const RAMADAN: Array<[string, string]> = [["2025-03-01", "2025-03-30"], ["2026-02-18", "2026-03-19"], ["2027-02-08", "2027-03-09"], ["2028-01-28", "2028-02-26"]];
const EASTER = ["2025-04-20", "2026-04-05", "2027-03-28", "2028-04-16"];
const inRamadan = (d: Date) => RAMADAN.some(([a, b]) => d.getTime() >= Date.parse(a) && d.getTime() < Date.parse(b) + DAY);
const nearEid = (d: Date) => RAMADAN.some(([, b]) => d.getTime() >= Date.parse(b) + DAY && d.getTime() < Date.parse(b) + 4 * DAY);
const nearEaster = (d: Date) => EASTER.some((e) => d.getTime() >= Date.parse(e) - 10 * DAY && d.getTime() < Date.parse(e) + 2 * DAY);
const salaryWeek = (d: Date) => d.getUTCDate() >= 24 || d.getUTCDate() <= 2;

const RETAIL: Theme[] = [
  { name: "Black Friday Mega Sale", subject: "Black Friday is here: up to 70% off 🔥", line: "Up to 70% off phones, fashion and groceries this Black Friday.", when: between(1115, 1130) },
  { name: "Black Friday Early Access", subject: "Your early access to Black Friday deals", line: "Shop Black Friday deals 24 hours before everyone else.", when: between(1115, 1127) },
  { name: "Detty December", subject: "Detty December deals for your owambe season 🎉", line: "Owambe outfits, drinks and party packs at Detty December prices.", when: between(1201, 1231) },
  { name: "Christmas Hamper Deals", subject: "Christmas hampers from ₦15,000", line: "Christmas hampers for family, staff and clients, delivered nationwide.", when: between(1210, 1225) },
  { name: "New Year, New You", subject: "New year, new you: fresh deals inside", line: "Start the year right with fitness, fashion and home deals.", when: between(101, 110) },
  { name: "Back to school", subject: "Back to school: bags, books and uniforms sorted", line: "School bags, books, shoes and uniforms at back-to-school prices.", when: (d) => between(102, 120)(d) || between(901, 920)(d) },
  { name: "Val's Day Specials", subject: "Show some love this Val's Day ❤️", line: "Gifts, perfumes and dinner deals for your special someone.", when: between(205, 214) },
  { name: "Ramadan Kareem offers", subject: "Ramadan Kareem: offers for iftar and family", line: "Dates, rice, oil and iftar essentials at Ramadan prices.", when: inRamadan },
  { name: "Eid Mubarak specials", subject: "Eid Mubarak! Celebrate with our Sallah specials", line: "New outfits and Sallah gifts for the whole family.", when: nearEid },
  { name: "Easter promo", subject: "Easter promo: hop in for savings 🐣", line: "Easter deals on groceries, fashion and family treats.", when: nearEaster },
  { name: "Independence Day Sale", subject: "Independence Day Sale: green-white-green deals", line: "Celebrate with 50% off made-in-Nigeria favourites.", when: between(925, 1003) },
  { name: "Salary week deals", subject: "Salary don land! Treat yourself this week", line: "Salary week deals on phones, electronics and home essentials.", when: salaryWeek },
  { name: "Mid-year Mega Sale", subject: "Mid-year Mega Sale starts now", line: "Half-year, half-price: mid-year deals across every aisle.", when: between(620, 710) },
  { name: "Weekend Flash Sale", subject: "48-hour flash sale: don't miss out", line: "48 hours only: flash prices on top brands." },
  { name: "New arrivals", subject: "Just landed: new arrivals you'll love", line: "New Ankara styles, sneakers and gadgets just arrived." },
  { name: "Loyalty rewards", subject: "You've earned double loyalty points", line: "Double loyalty points on every order this week." },
  { name: "We miss you", subject: "We miss you! Here's ₦2,000 off", line: "It's been a while. Here's a little something to welcome you back." },
  { name: "Free delivery week", subject: "Free delivery on all orders this week 🚚", line: "Free delivery in Lagos, Abuja and Port Harcourt this week." },
  { name: "App-only deals", subject: "Deals you'll only find in the app", line: "Download the app for exclusive app-only prices." },
  { name: "Refer a friend", subject: "Give ₦1,000, get ₦1,000", line: "Refer a friend and you both get credit on your next order." },
];

const FINTECH: Theme[] = [
  { name: "Salary week: save before you spend", subject: "Payday tip: move 10% to savings today", line: "Auto-save part of your salary and earn up to 12% a year.", when: salaryWeek },
  { name: "Jamhuri Day cashback", subject: "Jamhuri Day: 5% cashback on bill payments", line: "Celebrate Jamhuri Day with cashback on every bill you pay.", when: between(1205, 1212) },
  { name: "Madaraka Day offers", subject: "Madaraka Day: zero fees on transfers", line: "Send money free to any bank or wallet this Madaraka Day.", when: between(525, 601) },
  { name: "Mashujaa Day deals", subject: "Mashujaa Day: our heroes save more", line: "Boosted savings rates for our Mashujaa Day heroes.", when: between(1014, 1020) },
  { name: "Back to school fees made easy", subject: "School fees sorted, pay in 3 instalments", line: "Pay school fees in instalments with no hidden charges.", when: (d) => between(102, 120)(d) || between(425, 505)(d) || between(825, 905)(d) },
  { name: "Ramadan Kareem offers", subject: "Ramadan Kareem: zero-fee transfers to family", line: "Send Ramadan support to family with zero transfer fees.", when: inRamadan },
  { name: "Black Friday cashback", subject: "Black Friday: 10% cashback with your Savanna card", line: "Pay with your Savanna card for 10% cashback this Black Friday.", when: between(1120, 1130) },
  { name: "Festive season cashback", subject: "Festive season cashback is on 🎄", line: "Cashback on festive shopping, travel and gifts.", when: between(1213, 1231) },
  { name: "Zero-fee transfers week", subject: "Zero fees on every transfer this week", line: "No fees on wallet and bank transfers for seven days." },
  { name: "Save & win", subject: "Save KES 500, win up to KES 100,000", line: "Every KES 500 you save enters you into the weekly draw." },
  { name: "Loan top-up offer", subject: "You qualify for a loan top-up", line: "Your good repayment history unlocked a higher limit." },
  { name: "Merchant cashback", subject: "Merchants: 2% cashback on Lipa na Savanna", line: "Accept payments with Savanna and earn cashback on every sale." },
  { name: "Refer a friend", subject: "Refer a friend, earn KES 300", line: "Invite a friend and earn KES 300 when they make their first transfer." },
  { name: "New: virtual cards", subject: "New: virtual cards for safer online shopping", line: "Create a virtual card in seconds for online payments." },
  { name: "Boost your credit limit", subject: "3 ways to boost your credit limit", line: "Repay on time and save weekly to grow your limit." },
  { name: "Pay bills in one tap", subject: "KPLC, water and DStv in one tap", line: "Pay power, water and TV bills in one tap, any time." },
];

export function themesFor(slug: string): Theme[] {
  return slug === "savanna-fintech" ? FINTECH : RETAIL;
}

/** A seasonal theme when one fits the date (most of the time), otherwise an evergreen one. */
export function pickTheme(rng: Rng, themes: readonly Theme[], at: number): Theme {
  const d = new Date(at);
  const seasonal = themes.filter((t) => t.when?.(d));
  if (seasonal.length && rng.chance(0.75)) return rng.pick(seasonal);
  return rng.pick(themes.filter((t) => !t.when));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export const monthLabel = (at: number) => `${MONTHS[new Date(at).getUTCMonth()]} ${new Date(at).getUTCFullYear()}`;

export function slugify(s: string): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

const SMS_EXTRA = [
  "",
  " Offer ends Sunday midnight. T&Cs apply.",
  " Offer ends Sunday midnight. T&Cs apply. Order online, on WhatsApp or visit any of our stores near you. Pay on delivery available.",
  " Limited stock, while it lasts. Pay with card, transfer or USSD. Delivery in 24-48 hours in major cities; 3-5 days elsewhere. Questions? Chat with us on WhatsApp anytime, we reply fast.",
];

export interface ChannelContent {
  subject: string | null;
  content: string;
}

/** Subject and body for a channel; SMS stays GSM-7 (ASCII) and its length sets the segment count. */
export function channelContent(rng: Rng, channel: number, theme: Theme, brandName: string, link: string, variantB = false): ChannelContent {
  if (channel === 0) {
    const subject = variantB ? rng.pick([`{{first_name}}, ${theme.subject.charAt(0).toLowerCase()}${theme.subject.slice(1)}`, `Last chance: ${theme.subject}`, `⏰ ${theme.subject}`]) : theme.subject;
    return { subject, content: `<h1>${theme.subject}</h1><p>${theme.line}</p><p><a href="${link}">Shop now</a></p><p style="font-size:12px">You receive this email because you subscribed to ${brandName}. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>` };
  }
  const ascii = theme.line.replace(/[^\x20-\x7E]/g, "").replace(/\s+/g, " ").trim();
  if (channel === 1) {
    const head = `${brandName.toUpperCase().replace(/[^A-Z ]/g, "").trim()}: ${variantB ? "Hi {{first_name}}! " : ""}${ascii}`;
    return { subject: null, content: `${head} ${link}${rng.pick(SMS_EXTRA)} Reply STOP to opt out` };
  }
  const cta = variantB ? "Reply YES and we'll send the best deals for you 👇" : "Tap to see more 👇";
  return { subject: null, content: `Hi {{first_name}} 👋 ${theme.line} ${cta} ${link}` };
}

/** SMS segments: GSM-7 fits 160 characters (153 per part when split), UCS-2 fits 70 (67). */
export function smsSegments(text: string): number {
  const gsm = /^[\x20-\x7E\n\r]*$/.test(text);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return text.length <= single ? 1 : Math.ceil(text.length / part);
}
