// Obvious automated clients by user agent: marked by the collector, not counted as visitors.
// Conservative on purpose: a real phone browser flagged as a bot is a lost visitor, so the generic
// words are matched as words (not "Cubot", a phone brand) and browsers common in Africa (Opera
// Mini, UC Browser, Samsung Internet, KaiOS, Transsion's Phoenix) carry none of these tokens.

/** Named crawlers, link-preview fetchers, HTTP tools and headless/automation browsers. */
const NAMED =
  /googlebot|google-inspectiontool|adsbot-google|mediapartners-google|bingbot|bingpreview|ahrefsbot|semrushbot|yandex(?:bot|images)|baiduspider|duckduckbot|applebot|petalbot|mj12bot|dotbot|facebookexternalhit|facebookcatalog|meta-externalagent|slackbot|twitterbot|linkedinbot|telegrambot|discordbot|pinterestbot|^whatsapp\/|skypeuripreview|embedly|quora link preview|^curl\/|^wget\/|python-requests|python-urllib|aiohttp|httpx|^go-http-client|^node-fetch|^axios\/|^undici|^java\/|apache-httpclient|libwww-perl|scrapy|headlesschrome|phantomjs|slimerjs|electron\/.*\bheadless|chrome-lighthouse|lighthouse|pagespeed|gtmetrix|pingdom|uptimerobot|statuscake|prerender/i;

/** "bot", "crawler", "spider" and "crawl" as words: "Googlebot" style suffixes are caught by NAMED,
 *  a standalone "…bot/1.0" or "(bot)" here; "CUBOT" (an Android phone brand) is not a bot. */
const GENERIC = /(?<![a-z])(?:ro)?bot(?![a-z])|(?<!cu)bot[\/;)\s-]|crawler|crawl(?![a-z])|spider|scraper|headless/i;

export function isBot(userAgent: string | undefined): boolean {
  const ua = userAgent?.trim() ?? "";
  if (ua === "") return true;
  return NAMED.test(ua) || GENERIC.test(ua);
}

export type DeviceType = "MOBILE" | "TABLET" | "DESKTOP";

/** Prisma's DeviceType from the user agent. iPadOS 13+ sends a Mac desktop UA and counts as
 *  DESKTOP: the UA cannot tell them apart. Empty or unknown → DESKTOP. */
export function deviceOf(userAgent: string | undefined): DeviceType {
  const ua = userAgent ?? "";
  if (/ipad|tablet|playbook|kindle|silk\/|\btab(?:let)?\b/i.test(ua)) return "TABLET";
  if (/opera mini|opera mobi|kaios|iphone|ipod|windows phone|iemobile|blackberry|bb10|mobi|\(mobile;|symbian|series40|nokia|j2me|midp/i.test(ua)) {
    return "MOBILE";
  }
  // Android phones say "Mobile"; Android tablets do not.
  if (/android/i.test(ua)) return "TABLET";
  return "DESKTOP";
}

/** Operating system and browser names from the user agent (the families the reports group by);
 *  null when unknown. Order matters: Opera Mini and Samsung Internet also say "Chrome"/"Safari". */
export function agentOf(userAgent: string | undefined): { os: string | null; browser: string | null } {
  const ua = userAgent ?? "";
  const os =
    /windows phone/i.test(ua) ? "Windows Phone"
    : /kaios/i.test(ua) ? "KaiOS"
    : /android/i.test(ua) ? "Android"
    : /ipad/i.test(ua) ? "iPadOS"
    : /iphone|ipod/i.test(ua) ? "iOS"
    : /windows/i.test(ua) ? "Windows"
    : /mac os x|macintosh/i.test(ua) ? "macOS"
    : /cros/i.test(ua) ? "ChromeOS"
    : /linux/i.test(ua) ? "Linux"
    : null;
  const browser =
    /opera mini|opios/i.test(ua) ? "Opera Mini"
    : /\bopr\/|opera/i.test(ua) ? "Opera"
    : /samsungbrowser/i.test(ua) ? "Samsung Internet"
    : /ucbrowser/i.test(ua) ? "UC Browser"
    : /phx\//i.test(ua) ? "Phoenix"
    : /edg(?:e|a|ios)?\//i.test(ua) ? "Edge"
    : /firefox|fxios/i.test(ua) ? "Firefox"
    : /chrome|crios|chromium/i.test(ua) ? "Chrome"
    : /safari/i.test(ua) ? "Safari"
    : null;
  return { os, browser };
}
