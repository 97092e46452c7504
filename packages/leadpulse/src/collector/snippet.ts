// The website snippet served at GET /collect.js: plain ES2017 a site includes with its public site
// key. It is a string, not a function's .toString(): the server bundle is built with esbuild's
// minifySyntax for node20, which would rewrite a function body into syntax older browsers lack
// (`??`, `?.`) and could inject helpers; a string reaches the browser exactly as written here.
// Contract (events.ts, batch.ts): POST <origin of the script>/collect?key=<site key>, a text/plain
// JSON body { events: [...], context: { tz } }, ≤ 100 events and 64 KiB per request.
//
// Rules for the source below: no backticks and no dollar-brace (it sits in a template literal);
// ES2017 only (no ?., ??, object spread); every entry point wrapped so nothing throws into the page;
// no console output.

const SOURCE = String.raw`(function (w, d) {
  "use strict";
  var prior = w.marketsage;
  if (prior && prior.loaded) return;
  var MAX_EVENTS = 100, MAX_BYTES = 65536, BATCH = 10, DELAY = 1000, TRIES = 5, SESSION_MS = 1800000;
  var ID = /^[A-Za-z0-9_-]{8,64}$/, ga = Element.prototype.getAttribute, noop = function () {};
  var endpoint, tz, vid, disabled = true, queue = [], waiting = [], inflight = [], keptBytes = 0, timer = 0, blockedUntil = 0;
  var pv = null, leaveSent = false, visibleMs = 0, visibleSince = 0, maxScroll = 0, scrollTimer = 0;
  var forms = [], viewed = [], started = [], io = null;

  function guard(fn) {
    return function () { try { return fn.apply(this, arguments); } catch (e) { return undefined; } };
  }
  function now() { return Date.now(); }
  function cut(s, n) { s = s == null ? "" : String(s).trim(); return s.length > n ? s.slice(0, n).trim() : s; }
  function rid() {
    var abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", b = new Uint8Array(20), out = "", i;
    if (w.crypto && w.crypto.getRandomValues) w.crypto.getRandomValues(b);
    else for (i = 0; i < 20; i++) b[i] = Math.floor(Math.random() * 256);
    for (i = 0; i < 20; i++) out += abc.charAt(b[i] & 63);
    return out;
  }
  // Storage that may be absent or throw (private modes, blocked cookies): null when it fails.
  function store(kind, k, v) {
    try {
      var s = w[kind];
      if (v === undefined) return s.getItem(k);
      if (v === null) s.removeItem(k); else s.setItem(k, v);
      return v;
    } catch (e) { return null; }
  }
  function cookie(k, v) {
    try {
      if (v) d.cookie = k + "=" + v + "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
      var m = d.cookie.match(new RegExp("(?:^|; )" + k + "=([A-Za-z0-9_-]{8,64})"));
      return m ? m[1] : null;
    } catch (e) { return null; }
  }
  function visitorId() {
    var v = store("localStorage", "ms_vid");
    if (!v || !ID.test(v)) v = cookie("ms_vid");
    if (!v || !ID.test(v)) v = rid();
    if (store("localStorage", "ms_vid", v) !== v) cookie("ms_vid", v);
    return v;
  }
  // A per-tab hint, renewed after 30 minutes without events (the collector splits sessions itself).
  function sessionHint() {
    var raw = store("sessionStorage", "ms_sid") || "", dot = raw.indexOf("."), id = raw.slice(0, dot), t = now();
    if (!ID.test(id) || !(t - Number(raw.slice(dot + 1)) < SESSION_MS)) id = rid();
    return store("sessionStorage", "ms_sid", id + "." + t) ? id : undefined;
  }
  function pageUrl() { return cut(location.href.split("#")[0], 2048); }
  function visible() { return d.visibilityState !== "hidden"; }

  function event(type, withUrl) {
    var e = { type: type, id: rid(), ts: now(), visitor_id: vid }, s = sessionHint();
    if (s) e.session_hint = s;
    if (withUrl !== false) e.url = pageUrl();
    return e;
  }
  function push(e) {
    if (disabled) return;
    queue.push(e);
    if (queue.length >= BATCH) flush(false);
    else if (!timer) timer = setTimeout(guard(function () { flush(false); }), DELAY);
  }

  function utm() {
    var out = {}, names = ["source", "medium", "campaign", "term", "content"], sp, i, v;
    try { sp = new URLSearchParams(location.search); } catch (e) { return null; }
    for (i = 0; i < names.length; i++) { v = cut(sp.get("utm_" + names[i]), 200); if (v) out[names[i]] = v; }
    return out.source && out.medium && out.campaign ? out : null;
  }
  function pageview(first) {
    var e = event("pageview"), title = cut(d.title, 300), u = utm(), since = 0;
    if (title) e.title = title;
    e.referrer = first ? cut(d.referrer, 2048) : "";
    if (u) e.utm = u;
    // Visible time counts from navigation start when the page was opened in view.
    if (first && w.performance && performance.now) since = performance.now();
    pv = e.id; leaveSent = false; visibleMs = 0; visibleSince = visible() ? now() - since : 0; maxScroll = 0;
    forms = []; viewed = []; started = [];
    push(e);
    observeForms();
  }

  function measureScroll() {
    scrollTimer = 0;
    var el = d.documentElement, h = Math.max(el.scrollHeight, d.body ? d.body.scrollHeight : 0);
    var top = w.pageYOffset || el.scrollTop || 0, vh = w.innerHeight || el.clientHeight || 0;
    if (h > 0 && d.readyState !== "loading") maxScroll = Math.max(maxScroll, Math.min(100, Math.round(((top + vh) / h) * 100)));
  }
  function onScroll() { if (!scrollTimer) scrollTimer = setTimeout(guard(measureScroll), 100); }

  var CLICKABLE = 'a[href],button,input[type="submit"],input[type="button"],input[type="image"],[role="button"]';
  function onClick(ev) {
    var t = ev.target, el = t && t.closest ? t.closest(CLICKABLE) : null;
    if (!el) return;
    var e = event("click");
    var text = cut(String(el.innerText || el.textContent || el.value || ga.call(el, "aria-label") || "").replace(/\s+/g, " "), 300);
    if (text) e.text = text;
    if (el.tagName === "A" && el.href) e.href = cut(el.href, 2048);
    push(e);
  }

  function formOf(el) {
    if (!el || el.nodeType !== 1) return null;
    if (el.tagName === "FORM") return el;
    var f = el.form;
    return f && f.tagName === "FORM" ? f : el.closest ? el.closest("form") : null;
  }
  function formEvent(type, f) {
    var e = event(type), id = cut(ga.call(f, "id"), 200), name = cut(ga.call(f, "name"), 200);
    if (id) e.form_id = id;
    if (name) e.form_name = name;
    if (!id && !name) e.form_name = "form-" + Math.max(0, Array.prototype.indexOf.call(d.forms, f));
    push(e);
  }
  function viewedForm(f) {
    if (viewed.indexOf(f) >= 0) return;
    viewed.push(f);
    formEvent("form_view", f);
  }
  function observeForms() {
    if (d.readyState === "loading") return; // again on DOMContentLoaded
    for (var i = 0; i < d.forms.length; i++) {
      var f = d.forms[i];
      if (forms.indexOf(f) >= 0) continue;
      forms.push(f);
      if (io) io.observe(f); else viewedForm(f);
    }
  }
  function onInput(ev) {
    var f = formOf(ev.target);
    if (!f || started.indexOf(f) >= 0) return;
    started.push(f);
    formEvent("form_start", f);
  }
  function onSubmit(ev) { var f = formOf(ev.target); if (f) formEvent("form_submit", f); }

  // Page hide: close this page view once (visible time, deepest scroll), then send by beacon.
  function leave() {
    if (visibleSince) { visibleMs += now() - visibleSince; visibleSince = 0; }
    if (pv && !leaveSent && !disabled) {
      leaveSent = true;
      measureScroll();
      var e = event("page_leave");
      e.pageview_id = pv;
      e.scroll_depth = maxScroll;
      e.duration_sec = Math.min(86400, Math.round(visibleMs / 100) / 10);
      queue.push(e);
    }
    flush(true);
  }
  function onVisibility() {
    if (!visible()) leave();
    else if (!visibleSince) visibleSince = now();
  }

  function utf8Length(s) { return w.TextEncoder ? new TextEncoder().encode(s).length : unescape(encodeURIComponent(s)).length; }
  function body(events) { var b = { events: events }; if (tz) b.context = { tz: tz }; return JSON.stringify(b); }
  function chunks(events) {
    var out = [], cur = [], size = utf8Length(body([])), base = size, i, n;
    for (i = 0; i < events.length; i++) {
      n = utf8Length(JSON.stringify(events[i])) + 1;
      if (cur.length && (cur.length >= MAX_EVENTS || size + n > MAX_BYTES)) { out.push(cur); cur = []; size = base; }
      cur.push(events[i]); size += n;
    }
    if (cur.length) out.push(cur);
    return out;
  }
  function flush(hiding) {
    if (timer) { clearTimeout(timer); timer = 0; }
    var events = queue, i;
    queue = [];
    if (hiding) {
      // Retries still waiting would never fire in a hidden page, and a fetch without keepalive dies
      // with it: send them now (same ids; the collector stores an id once).
      for (i = 0; i < waiting.length; i++) { clearTimeout(waiting[i].t); events = waiting[i].events.concat(events); }
      for (i = 0; i < inflight.length; i++) if (!inflight[i].keep) events = inflight[i].events.concat(events);
      waiting = [];
    }
    var parts = chunks(events);
    for (i = 0; i < parts.length; i++) send(parts[i], 0, hiding);
  }
  // Kept for the next page view on this site when a hidden page cannot send (beacon quota, 429,
  // retries used up); at most 500 events, the newest.
  function save(events) {
    var kept = [], old = store("localStorage", "ms_q");
    try { kept = JSON.parse(old || "[]"); } catch (e) { kept = []; }
    store("localStorage", "ms_q", JSON.stringify(kept.concat(events).slice(-500)));
  }
  function restore() {
    var raw = store("localStorage", "ms_q"), list, i, cutoff = now() - 86400000;
    if (!raw) return;
    store("localStorage", "ms_q", null);
    try { list = JSON.parse(raw); } catch (e) { return; }
    for (i = 0; i < list.length; i++) if (list[i] && list[i].ts > cutoff) queue.push(list[i]);
    if (queue.length) flush(false);
  }
  function later(events, attempt, wait) {
    var item = { events: events };
    item.t = setTimeout(guard(function () {
      waiting.splice(waiting.indexOf(item), 1);
      send(events, attempt, false);
    }), wait);
    waiting.push(item);
  }
  function retryAfter(r) {
    var v = r.headers.get("retry-after"), s = v ? Number(v) : NaN;
    if (v && !(s >= 0)) s = (Date.parse(v) - now()) / 1000;
    return (s >= 0 ? Math.min(s, 3600) : 30) * 1000;
  }
  function send(events, attempt, hiding) {
    var payload = body(events), wait = blockedUntil - now();
    if (wait > 0) { if (hiding) save(events); else later(events, attempt, wait); return; }
    if (hiding && navigator.sendBeacon) {
      // A refused beacon (the browser's 64 KiB in-flight quota) waits for the next page view.
      var sent = false;
      try { sent = navigator.sendBeacon(endpoint, payload); } catch (e) { sent = false; }
      if (!sent) save(events);
      return;
    }
    if (!w.fetch) { if (hiding) save(events); return; }
    function failed(delay) {
      if (attempt + 1 < TRIES) later(events, attempt + 1, delay);
      else save(events);
    }
    var backoff = 1000 * Math.pow(3, attempt) * (0.75 + Math.random() / 2);
    // keepalive (the request outlives the page) within the browser's 64 KiB in-flight quota, which
    // refuses a request above it outright.
    var n = utf8Length(payload), item = { events: events, keep: keptBytes + n <= 61440 };
    if (item.keep) keptBytes += n;
    inflight.push(item);
    function done() { inflight.splice(inflight.indexOf(item), 1); if (item.keep) keptBytes -= n; }
    w.fetch(endpoint, {
      method: "POST",
      body: payload,
      headers: { "content-type": "text/plain" },
      keepalive: item.keep,
      credentials: "omit",
      mode: "cors"
    }).then(guard(function (r) {
      done();
      if (r.ok) return; // events listed as rejected would be rejected again: not resent
      if (r.status === 429) { var ms = retryAfter(r); blockedUntil = now() + ms; failed(ms); }
      else if (r.status >= 500 || r.status === 408) failed(backoff);
      // any other refusal (unknown key, origin not allowed, too large) cannot succeed on retry
    }), guard(function () { done(); failed(backoff); }))["catch"](noop);
  }

  function identify(p) {
    p = p || {};
    var e = event("identify"), email = cut(p.email, 254), phone = cut(p.phone, 32);
    if (email) e.email = email;
    if (phone) e.phone = phone;
    if (email || phone) push(e);
  }
  function conversion(goal, o) {
    o = o || {};
    var e = event("conversion");
    e.goal = cut(goal, 100);
    if (!e.goal) return;
    if (o.value != null && isFinite(o.value)) e.value = Number(o.value);
    if (o.currency) e.currency = cut(o.currency, 3).toUpperCase();
    push(e);
  }
  function optOut() {
    store("localStorage", "ms_optout", "1");
    disabled = true; queue = []; waiting.forEach(function (x) { clearTimeout(x.t); }); waiting = [];
    store("localStorage", "ms_vid", null); store("localStorage", "ms_q", null);
    try { d.cookie = "ms_vid=; path=/; max-age=0"; } catch (e) { /* no cookies */ }
  }
  function optIn() { store("localStorage", "ms_optout", null); }

  var methods = { identify: identify, conversion: conversion, optOut: optOut, optIn: optIn, flush: function () { flush(false); } };
  var ms = guard(function (name) { var f = methods[name]; if (f) f.apply(null, [].slice.call(arguments, 1)); });
  Object.keys(methods).forEach(function (k) { ms[k] = guard(methods[k]); });
  ms.loaded = true;

  guard(function () {
    w.marketsage = ms;
    var script = d.currentScript || [].slice.call(d.querySelectorAll("script[data-site-key]")).pop();
    var key = script && ga.call(script, "data-site-key");
    if (!key || !script.src) return;
    endpoint = new URL(script.src, location.href).origin + "/collect?key=" + encodeURIComponent(key);
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { tz = undefined; }
    var dnt = navigator.globalPrivacyControl === true || navigator.doNotTrack === "1" || w.doNotTrack === "1";
    disabled = store("localStorage", "ms_optout") === "1" || (script.hasAttribute("data-respect-dnt") && dnt);
    if (disabled) return;
    vid = visitorId();
    if (w.IntersectionObserver) {
      io = new IntersectionObserver(guard(function (entries) {
        for (var i = 0; i < entries.length; i++) if (entries[i].isIntersecting) { io.unobserve(entries[i].target); viewedForm(entries[i].target); }
      }));
    }
    pageview(true);
    restore();
    var q = (prior && prior.q) || [];
    for (var i = 0; i < q.length; i++) ms.apply(null, [].slice.call(q[i]));
    d.addEventListener("click", guard(onClick), true);
    d.addEventListener("input", guard(onInput), true);
    d.addEventListener("change", guard(onInput), true);
    d.addEventListener("submit", guard(onSubmit), true);
    d.addEventListener("visibilitychange", guard(onVisibility));
    d.addEventListener("DOMContentLoaded", guard(function () { observeForms(); measureScroll(); }));
    w.addEventListener("load", guard(function () { observeForms(); measureScroll(); }));
    w.addEventListener("scroll", guard(onScroll), { passive: true });
    w.addEventListener("pagehide", guard(leave));
    // A page restored from the back/forward cache is a new page view.
    w.addEventListener("pageshow", guard(function (ev) { if (ev.persisted) pageview(false); }));
    if (d.readyState !== "loading") measureScroll();
  })();
})(window, document);
`;

/** Served without indentation and whole-line comments (safe: the source has no multi-line string,
 *  and line breaks stay where they were, so automatic semicolons do not move). */
const SERVED = SOURCE.split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("//"))
  .join("\n");

/** The JavaScript served at GET /collect.js (content-type text/javascript). */
export function snippetSource(): string {
  return SERVED;
}

/** The tag a website includes (README, `pnpm serve`'s banner). */
export function snippetTag(hostUrl: string, siteKey: string): string {
  const attr = (v: string) => v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<script async src="${attr(hostUrl.replace(/\/+$/, ""))}/collect.js" data-site-key="${attr(siteKey)}"></script>`;
}
