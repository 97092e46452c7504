// Bot detection and device type on real user-agent strings, and 30-minute sessions.
import { describe, expect, it } from "vitest";
import { deviceOf, isBot } from "../src/collector/bots.ts";
import { assignSessions, type SessionState } from "../src/collector/sessions.ts";

// Each UA is copied from a public source, named beside it.
const BOTS: Array<[string, string]> = [
  // Google Search Central, "Google's common crawlers" (desktop and smartphone Googlebot)
  ["Googlebot desktop", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"],
  ["Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"],
  // Bing Webmaster help, "Which crawlers does Bing use?"
  ["bingbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"],
  // ahrefs.com/robot
  ["AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"],
  // semrush.com/bot
  ["SemrushBot", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"],
  // developers.facebook.com/docs/sharing/webmasters/web-crawlers
  ["facebookexternalhit", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"],
  // api.slack.com/robots
  ["Slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"],
  // developer.x.com, Cards troubleshooting ("Twitterbot/1.0")
  ["Twitterbot", "Twitterbot/1.0"],
  // WhatsApp's link-preview fetcher as logged by sites (e.g. useragents.me, "WhatsApp/2.x A" for Android)
  ["WhatsApp preview", "WhatsApp/2.23.20.0 A"],
  // the tools' own defaults: curl --version 8.5.0, GNU Wget 1.21.4, requests 2.31.0
  ["curl", "curl/8.5.0"],
  ["wget", "Wget/1.21.4"],
  ["python-requests", "python-requests/2.31.0"],
  // Chromium headless mode (chromium --headless, navigator.userAgent)
  ["HeadlessChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.224 Safari/537.36"],
  // PhantomJS 2.1.1 default (phantomjs.org, page.settings.userAgent)
  ["PhantomJS", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1"],
  // developer.chrome.com/docs/lighthouse (PageSpeed Insights' mobile emulation)
  ["Lighthouse", "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse"],
  // generic words: Baidu's published spider UA; a made-up in-house crawler; a standalone "bot" word
  ["Baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"],
  ["generic crawler", "acme-site-crawler/0.3 (+https://acme.example/crawler)"],
  ["generic bot word", "Mozilla/5.0 (compatible; Uptime bot; +https://status.example)"],
];

const BROWSERS: Array<[string, string, "MOBILE" | "TABLET" | "DESKTOP"]> = [
  // Opera Mini on Android (Presto proxy UA; listed in Opera's dev.opera.com UA docs and in public UA lists)
  ["Opera Mini", "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16", "MOBILE"],
  // UC Browser on an Infinix phone (whatismybrowser.com UA database)
  ["UC Browser", "Mozilla/5.0 (Linux; U; Android 8.1.0; en-US; Infinix X650 Build/O11019) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/13.0.0.1288 Mobile Safari/537.36", "MOBILE"],
  // Samsung Internet 23 (developer.samsung.com/internet "Samsung Internet user agent string format")
  ["Samsung Internet", "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "MOBILE"],
  // Chrome on Android, reduced UA (developer.chrome.com "User-Agent reduction")
  ["Chrome Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "MOBILE"],
  // Safari on iOS 17 (developer.apple.com / webkit.org UA examples)
  ["Safari iOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "MOBILE"],
  // Firefox for Android and desktop (developer.mozilla.org "Firefox user agent string reference")
  ["Firefox Android", "Mozilla/5.0 (Android 13; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0", "MOBILE"],
  ["Firefox desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0", "DESKTOP"],
  // KaiOS 2.5 on a JioPhone and a Nokia 8110 (PodLP's published list of KaiOS user agents; KaiOS developer docs)
  ["KaiOS JioPhone", "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", "MOBILE"],
  ["KaiOS Nokia", "Mozilla/5.0 (Mobile; Nokia_8110_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.1", "MOBILE"],
  // Transsion's Phoenix browser on a TECNO phone (whatismybrowser.com UA database, "PHX/" token)
  ["Phoenix (TECNO)", "Mozilla/5.0 (Linux; Android 10; TECNO KE5 Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.141 Mobile Safari/537.36 PHX/8.6", "MOBILE"],
  // A Cubot phone (an Android brand whose model names contain "BOT"; whatismybrowser.com UA database)
  ["Chrome on a CUBOT", "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Mobile Safari/537.36", "MOBILE"],
  // Tablets: iPad Safari (iPadOS in mobile mode), Galaxy Tab without "Mobile", Firefox on an Android tablet
  ["iPad", "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1", "TABLET"],
  ["Galaxy Tab", "Mozilla/5.0 (Linux; Android 12; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "TABLET"],
  ["Firefox Android tablet", "Mozilla/5.0 (Android 13; Tablet; rv:120.0) Gecko/120.0 Firefox/120.0", "TABLET"],
  // Desktop Chrome on Windows and Safari on macOS (reduced UA examples as above)
  ["Chrome Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "DESKTOP"],
  ["Safari macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "DESKTOP"],
];

describe("isBot", () => {
  it("an empty or missing user agent is a bot", () => {
    expect(isBot(undefined)).toBe(true);
    expect(isBot("")).toBe(true);
    expect(isBot("   ")).toBe(true);
  });

  it.each(BOTS)("%s is a bot", (_name, ua) => {
    expect(isBot(ua)).toBe(true);
  });

  it.each(BROWSERS)("%s is not a bot", (_name, ua) => {
    expect(isBot(ua)).toBe(false);
  });
});

describe("deviceOf", () => {
  it.each(BROWSERS)("%s → %s", (_name, ua, device) => {
    expect(deviceOf(ua)).toBe(device);
  });

  it("Googlebot smartphone is mobile, desktop Googlebot and empty are desktop", () => {
    expect(deviceOf(BOTS[1]![1])).toBe("MOBILE");
    expect(deviceOf(BOTS[0]![1])).toBe("DESKTOP");
    expect(deviceOf(undefined)).toBe("DESKTOP");
  });
});

describe("assignSessions", () => {
  const T0 = Date.parse("2025-03-01T10:00:00.000Z");
  const at = (min: number, sec = 0) => new Date(T0 + min * 60_000 + sec * 1000);
  const ids = () => {
    let n = 0;
    return () => `s${++n}`;
  };

  it("29:59 of inactivity continues a session, 30:00 starts a new one", () => {
    const r = assignSessions(
      [
        { visitor: "a", ts: at(0) },
        { visitor: "a", ts: at(29, 59) },
        { visitor: "a", ts: at(59, 59) }, // exactly 30:00 after the previous
        { visitor: "a", ts: at(89, 58) }, // 29:59 after
      ],
      new Map(),
      ids(),
    );
    expect(r.sessionIds).toEqual(["s1", "s1", "s2", "s2"]);
    expect(r.state.get("a")).toEqual({ sessionId: "s2", lastTs: at(89, 58) });
    expect(r.sessions).toEqual([
      { sessionId: "s1", visitor: "a", isNew: true, firstTs: at(0), lastTs: at(29, 59) },
      { sessionId: "s2", visitor: "a", isNew: true, firstTs: at(59, 59), lastTs: at(89, 58) },
    ]);
  });

  it("events out of order are sorted per visitor; ids are given back in input order", () => {
    const r = assignSessions(
      [
        { visitor: "a", ts: at(45) },
        { visitor: "b", ts: at(5) },
        { visitor: "a", ts: at(0) },
        { visitor: "a", ts: at(20) },
        { visitor: "b", ts: at(100) },
      ],
      new Map(),
      ids(),
    );
    // a: 0, 20, 45 → one session (gaps 20 and 25 min); b: 5, 100 → two sessions.
    expect(r.sessionIds).toEqual(["s1", "s2", "s1", "s1", "s3"]);
    expect(r.state.get("a")).toEqual({ sessionId: "s1", lastTs: at(45) });
    expect(r.state.get("b")).toEqual({ sessionId: "s3", lastTs: at(100) });
  });

  it("continues the previous session across batches at 29:59 and not at 30:00; does not change `previous`", () => {
    const previous = new Map<string, SessionState>([
      ["a", { sessionId: "old-a", lastTs: at(0) }],
      ["b", { sessionId: "old-b", lastTs: at(0) }],
    ]);
    const r = assignSessions([{ visitor: "a", ts: at(29, 59) }, { visitor: "b", ts: at(30) }], previous, ids());
    expect(r.sessionIds).toEqual(["old-a", "s1"]);
    expect(r.sessions.map((s) => [s.sessionId, s.isNew])).toEqual([["old-a", false], ["s1", true]]);
    expect(r.state.get("a")).toEqual({ sessionId: "old-a", lastTs: at(29, 59) });
    expect(r.state.get("b")).toEqual({ sessionId: "s1", lastTs: at(30) });
    expect(previous.get("a")).toEqual({ sessionId: "old-a", lastTs: at(0) });
  });

  it("a late event older than the previous session's last event but within its gap joins it", () => {
    const previous = new Map<string, SessionState>([["a", { sessionId: "old", lastTs: at(60) }]]);
    const r = assignSessions([{ visitor: "a", ts: at(30, 1) }, { visitor: "a", ts: at(70) }], previous, ids());
    expect(r.sessionIds).toEqual(["old", "old"]);
    expect(r.sessions).toEqual([{ sessionId: "old", visitor: "a", isNew: false, firstTs: at(30, 1), lastTs: at(70) }]);
    expect(r.state.get("a")).toEqual({ sessionId: "old", lastTs: at(70) });
  });

  it("a late event a full gap before the previous session is a session of its own and leaves the latest in place", () => {
    const previous = new Map<string, SessionState>([["a", { sessionId: "old", lastTs: at(60) }]]);
    const r = assignSessions(
      [{ visitor: "a", ts: at(30) }, { visitor: "a", ts: at(5) }, { visitor: "a", ts: at(50) }],
      previous,
      ids(),
    );
    // 5 and 30 are 25 min apart (one session); 30 is exactly 30:00 before 60 (not in "old");
    // 50 is within 10 min of 60 → "old".
    expect(r.sessionIds).toEqual(["s1", "s1", "old"]);
    expect(r.state.get("a")).toEqual({ sessionId: "old", lastTs: at(60) });
    expect(r.sessions).toEqual([
      { sessionId: "s1", visitor: "a", isNew: true, firstTs: at(5), lastTs: at(30) },
      { sessionId: "old", visitor: "a", isNew: false, firstTs: at(50), lastTs: at(50) },
    ]);
  });

  it("equal timestamps keep their input order and share a session; a custom gap is honoured", () => {
    const r = assignSessions(
      [{ visitor: "a", ts: at(0) }, { visitor: "a", ts: at(0) }, { visitor: "a", ts: at(10) }],
      new Map(),
      ids(),
      10 * 60_000,
    );
    expect(r.sessionIds).toEqual(["s1", "s1", "s2"]);
  });
});
