// A visitor's country without a geo-IP database: a country header set by a trusted proxy or CDN
// (only when the host trusts its proxy), else the browser's IANA time zone (sent by the snippet as
// context.tz). Zones shared by several countries (e.g. none in Africa here) are left out rather than
// guessed: an unknown zone gives no country.

/** IANA zone → ISO 3166-1 alpha-2, for the zones of Africa and the commonest elsewhere. */
const ZONES: Readonly<Record<string, string>> = {
  "Africa/Abidjan": "CI", "Africa/Accra": "GH", "Africa/Addis_Ababa": "ET", "Africa/Algiers": "DZ", "Africa/Asmara": "ER",
  "Africa/Bamako": "ML", "Africa/Bangui": "CF", "Africa/Banjul": "GM", "Africa/Bissau": "GW", "Africa/Blantyre": "MW",
  "Africa/Brazzaville": "CG", "Africa/Bujumbura": "BI", "Africa/Cairo": "EG", "Africa/Casablanca": "MA", "Africa/Ceuta": "ES",
  "Africa/Conakry": "GN", "Africa/Dakar": "SN", "Africa/Dar_es_Salaam": "TZ", "Africa/Djibouti": "DJ", "Africa/Douala": "CM",
  "Africa/El_Aaiun": "EH", "Africa/Freetown": "SL", "Africa/Gaborone": "BW", "Africa/Harare": "ZW", "Africa/Johannesburg": "ZA",
  "Africa/Juba": "SS", "Africa/Kampala": "UG", "Africa/Khartoum": "SD", "Africa/Kigali": "RW", "Africa/Kinshasa": "CD",
  "Africa/Lagos": "NG", "Africa/Libreville": "GA", "Africa/Lome": "TG", "Africa/Luanda": "AO", "Africa/Lubumbashi": "CD",
  "Africa/Lusaka": "ZM", "Africa/Malabo": "GQ", "Africa/Maputo": "MZ", "Africa/Maseru": "LS", "Africa/Mbabane": "SZ",
  "Africa/Mogadishu": "SO", "Africa/Monrovia": "LR", "Africa/Nairobi": "KE", "Africa/Ndjamena": "TD", "Africa/Niamey": "NE",
  "Africa/Nouakchott": "MR", "Africa/Ouagadougou": "BF", "Africa/Porto-Novo": "BJ", "Africa/Sao_Tome": "ST", "Africa/Tripoli": "LY",
  "Africa/Tunis": "TN", "Africa/Windhoek": "NA", "Indian/Mauritius": "MU", "Indian/Antananarivo": "MG", "Indian/Comoro": "KM",
  "Indian/Mahe": "SC", "Atlantic/Cape_Verde": "CV",
  "Europe/London": "GB", "Europe/Dublin": "IE", "Europe/Paris": "FR", "Europe/Berlin": "DE", "Europe/Madrid": "ES",
  "Europe/Rome": "IT", "Europe/Amsterdam": "NL", "Europe/Brussels": "BE", "Europe/Lisbon": "PT", "Europe/Zurich": "CH",
  "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US", "America/Los_Angeles": "US", "America/Phoenix": "US",
  "America/Toronto": "CA", "America/Vancouver": "CA", "America/Sao_Paulo": "BR", "America/Mexico_City": "MX",
  "Asia/Dubai": "AE", "Asia/Riyadh": "SA", "Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Shanghai": "CN", "Asia/Tokyo": "JP",
  "Asia/Singapore": "SG", "Australia/Sydney": "AU",
};

export function countryOfTimeZone(tz: string | undefined): string | null {
  return (tz && ZONES[tz]) || null;
}

/** Headers CDNs and proxies set with the client's country (Cloudflare, CloudFront, Vercel, App Engine, a generic one). */
export const COUNTRY_HEADERS = ["cf-ipcountry", "cloudfront-viewer-country", "x-vercel-ip-country", "x-appengine-country", "x-country-code"] as const;

/** The country a trusted proxy put in the request's headers (two letters; "XX"/"T1" mean unknown/Tor). */
export function countryOfHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
  for (const h of COUNTRY_HEADERS) {
    const raw = headers[h];
    const v = (Array.isArray(raw) ? raw[0] : raw)?.trim().toUpperCase();
    if (v && /^[A-Z]{2}$/.test(v) && v !== "XX" && v !== "T1") return v;
  }
  return null;
}
