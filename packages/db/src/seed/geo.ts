// Markets: phone numbering, cities, time zones, currencies and messaging prices per country.
// Mobile prefixes are real operator ranges (MTN, Airtel, Glo, 9mobile, Safaricom, Vodacom, ...),
// so numbers look like what a provider would actually deliver to.
import { Weighted, type Rng } from "./prng.ts";

export interface Country {
  code: string;
  dial: string;
  /** Mobile prefixes of the national number. */
  prefixes: string[];
  /** Digits after the prefix. */
  rest: number;
  tz: string;
  currency: string;
  cities: Weighted<string>;
  /** SMS price per segment in local currency (bulk rates). */
  smsCost: [number, number];
  /** WhatsApp marketing conversation price in USD (Meta's regional rate card). */
  waCostUsd: number;
  /** Webmail domains people actually use there. */
  mailDomains: Weighted<string>;
  /** Multipliers on the base engagement rates. */
  emailOpen: number;
  waRead: number;
  smsFail: number;
}

const mail = (extra: Array<[string, number]> = []) =>
  new Weighted<string>([["gmail.com", 62], ["yahoo.com", 16], ["outlook.com", 8], ["hotmail.com", 6], ["icloud.com", 3], ...extra]);

function c(code: string, dial: string, prefixes: string[], rest: number, tz: string, currency: string, cities: Array<[string, number]>,
  smsCost: [number, number], waCostUsd: number, extraMail: Array<[string, number]>, emailOpen: number, waRead: number, smsFail: number): Country {
  return { code, dial, prefixes, rest, tz, currency, cities: new Weighted(cities), smsCost, waCostUsd, mailDomains: mail(extraMail), emailOpen, waRead, smsFail };
}

export const COUNTRIES: Record<string, Country> = {
  NG: c("NG", "234", ["803", "806", "813", "816", "903", "906", "706", "703", "810", "814", "805", "807", "815", "905", "802", "808", "812", "701", "902", "809", "817", "818", "909", "908"], 7,
    "Africa/Lagos", "NGN",
    [["Lagos", 40], ["Abuja", 15], ["Port Harcourt", 10], ["Ibadan", 10], ["Kano", 8], ["Enugu", 5], ["Benin City", 5], ["Kaduna", 4], ["Abeokuta", 3]],
    [4, 6], 0.0516, [["yahoo.co.uk", 3]], 1.0, 1.0, 1.2),
  KE: c("KE", "254", ["701", "702", "705", "708", "710", "712", "713", "715", "720", "721", "722", "725", "727", "729", "740", "741", "745", "746", "757", "759", "768", "769", "790", "791", "792", "793", "110", "111", "112", "115"], 6,
    "Africa/Nairobi", "KES",
    [["Nairobi", 50], ["Mombasa", 15], ["Kisumu", 10], ["Nakuru", 10], ["Eldoret", 8], ["Thika", 7]],
    [0.6, 0.9], 0.0225, [], 1.05, 1.0, 0.8),
  GH: c("GH", "233", ["24", "54", "55", "20", "50", "27", "57", "26", "56"], 7, "Africa/Accra", "GHS",
    [["Accra", 45], ["Kumasi", 25], ["Tamale", 8], ["Takoradi", 8], ["Cape Coast", 7], ["Tema", 7]],
    [0.03, 0.05], 0.0225, [], 1.0, 0.85, 1.0),
  ZA: c("ZA", "27", ["60", "61", "62", "63", "64", "71", "72", "73", "74", "76", "78", "79", "81", "82", "83", "84"], 7, "Africa/Johannesburg", "ZAR",
    [["Johannesburg", 35], ["Cape Town", 25], ["Durban", 18], ["Pretoria", 14], ["Gqeberha", 5], ["Bloemfontein", 3]],
    [0.2, 0.3], 0.0379, [["webmail.co.za", 4], ["mweb.co.za", 3]], 1.15, 0.8, 0.7),
  EG: c("EG", "20", ["10", "11", "12", "15"], 8, "Africa/Cairo", "EGP",
    [["Cairo", 50], ["Alexandria", 25], ["Giza", 15], ["Port Said", 5], ["Mansoura", 5]],
    [0.3, 0.45], 0.1073, [], 0.85, 0.75, 1.0),
  UG: c("UG", "256", ["70", "71", "74", "75", "76", "77", "78"], 7, "Africa/Kampala", "UGX",
    [["Kampala", 60], ["Entebbe", 10], ["Jinja", 10], ["Mbarara", 10], ["Gulu", 10]],
    [25, 35], 0.0225, [], 0.9, 0.85, 1.1),
  TZ: c("TZ", "255", ["65", "67", "68", "69", "71", "74", "75", "76", "77", "78"], 7, "Africa/Dar_es_Salaam", "TZS",
    [["Dar es Salaam", 55], ["Arusha", 15], ["Mwanza", 12], ["Dodoma", 10], ["Zanzibar City", 8]],
    [18, 28], 0.0225, [], 0.9, 0.85, 1.1),
  RW: c("RW", "250", ["78", "79", "72", "73"], 7, "Africa/Kigali", "RWF",
    [["Kigali", 70], ["Musanze", 8], ["Huye", 8], ["Rubavu", 8], ["Muhanga", 6]],
    [12, 18], 0.0225, [], 0.95, 0.85, 0.9),
  CI: c("CI", "225", ["07", "05", "01"], 8, "Africa/Abidjan", "XOF",
    [["Abidjan", 60], ["Bouaké", 15], ["Yamoussoukro", 10], ["San-Pédro", 8], ["Daloa", 7]],
    [18, 25], 0.0225, [["yahoo.fr", 8], ["orange.ci", 3]], 0.9, 0.8, 1.1),
  SN: c("SN", "221", ["77", "78", "76", "70", "75"], 7, "Africa/Dakar", "XOF",
    [["Dakar", 55], ["Touba", 12], ["Thiès", 12], ["Saint-Louis", 10], ["Kaolack", 6], ["Ziguinchor", 5]],
    [18, 25], 0.0225, [["yahoo.fr", 8], ["orange.sn", 3]], 0.9, 0.8, 1.0),
};

export const COUNTRY_CODES: string[] = Object.keys(COUNTRIES);

export function country(code: string): Country {
  const c0 = COUNTRIES[code];
  if (!c0) throw new Error(`no market data for country ${code}`);
  return c0;
}

/** Indexes into COUNTRY_CODES, so per-contact country fits in a Uint8Array. */
export function countryIndex(code: string): number {
  const i = COUNTRY_CODES.indexOf(code);
  if (i < 0) throw new Error(`no market data for country ${code}`);
  return i;
}

/** A mobile number in E.164 (+234 803 123 4567 → +2348031234567). */
export function mobileNumber(rng: Rng, cc: Country): string {
  let s = `+${cc.dial}${rng.pick(cc.prefixes)}`;
  for (let i = 0; i < cc.rest; i++) s += String.fromCharCode(48 + rng.int(10));
  return s;
}

/** Approximate USD rates at the start of the history; fx.ts walks them forward day by day. */
export const USD_RATES: Record<string, number> = {
  NGN: 1530, KES: 129.3, GHS: 15.4, ZAR: 18.6, EGP: 49.2, UGX: 3680, TZS: 2640, RWF: 1390, XOF: 610,
};
