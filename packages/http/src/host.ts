// The HTTP host: Streamable HTTP at /mcp/<server> for every enabled catalog server, stateless (a
// server and transport per request, so any replica answers any request), a bearer API key on
// every request, Origin checked; /healthz and /readyz; and the routes servers add, each with its
// body-size limit and per-address rate limit.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AuthError, clarifyErrorResponse, classifyLine, createMcpServer, type Booted, type HttpRequest, type HttpResponse, type HttpRoute } from "@marketsage/core";
import { assertMigrated } from "@marketsage/db";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { DEFAULT_BODY_LIMIT } from "./routes.ts";

/** A route's path is exact, or ends in "/*" for everything under it (e.g. a secret token in the path). */
function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith("/*") ? path.startsWith(pattern.slice(0, -1)) && path.length > pattern.length - 1 : pattern === path;
}

export interface HostOptions {
  booted: Booted;
  /** Routes besides /mcp/<server>, /healthz and /readyz (from the catalog's servers). */
  routes?: readonly HttpRoute[];
  /** Origins allowed to call /mcp (browsers send Origin); the host's own origin is always allowed. */
  allowedOrigins?: readonly string[];
  /** Largest MCP request body (413 above it). */
  maxBodyBytes?: number;
  /** Read the client address from X-Forwarded-For (behind a load balancer). */
  trustProxy?: boolean;
  /** Host header values accepted besides the loopback names when bound to loopback (DNS rebinding). */
  allowedHosts?: readonly string[];
}

export interface HttpHost {
  server: http.Server;
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

class HttpFailure extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      req.resume();
      reject(new HttpFailure(413, `The request body is larger than ${limit} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpFailure(413, `The request body is larger than ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, r: HttpResponse): void {
  if (res.headersSent) return;
  const isRaw = typeof r.body === "string" || Buffer.isBuffer(r.body);
  const body = r.body === undefined ? "" : isRaw ? (r.body as string | Buffer) : JSON.stringify(r.body);
  res.writeHead(r.status, { ...(isRaw || r.body === undefined ? {} : { "content-type": "application/json" }), ...r.headers });
  res.end(body);
}

/** A JSON-RPC error body (MCP clients read these even on HTTP errors). */
const rpcError = (code: number, message: string) => ({ jsonrpc: "2.0", id: null, error: { code, message } });

export function createHttpHost(opts: HostOptions): HttpHost {
  const { booted } = opts;
  const { log, runtime } = booted;
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const served = new Map(booted.servers.map((s) => [s.name, s]));
  const routes = opts.routes ?? [];
  let selfOrigins: string[] = [];
  const allowedOrigins = new Set(opts.allowedOrigins ?? []);

  // Route rate limits live in PostgreSQL like the tools' limits, so every replica shares them.
  let routePool: pg.Pool | undefined;
  const limiters = new Map<HttpRoute, RateLimiterPostgres>();
  const limiterFor = (route: HttpRoute): RateLimiterPostgres => {
    let l = limiters.get(route);
    if (!l) {
      routePool ??= new pg.Pool({ connectionString: booted.databaseUrl, max: 2, idleTimeoutMillis: 10_000 });
      l = new RateLimiterPostgres({
        storeClient: routePool,
        storeType: "pool",
        tableName: "rate_limits",
        tableCreated: true,
        keyPrefix: `route_${route.method}_${route.path}`,
        points: route.rateLimitPerMinute!,
        duration: 60,
      });
      limiters.set(route, l);
    }
    return l;
  };

  let ready: { ok: boolean; checkedAt: number; reason?: string } | undefined;
  async function readiness(): Promise<{ ok: boolean; reason?: string }> {
    if (ready && Date.now() - ready.checkedAt < 2_000) return ready;
    try {
      await assertMigrated(booted.databaseUrl);
      ready = { ok: true, checkedAt: Date.now() };
    } catch (e) {
      ready = { ok: false, checkedAt: Date.now(), reason: (e as Error).message };
    }
    return ready;
  }

  function clientIp(req: http.IncomingMessage): string {
    const fwd = opts.trustProxy ? String(req.headers["x-forwarded-for"] ?? "").split(",")[0]?.trim() : "";
    return fwd || req.socket.remoteAddress || "unknown";
  }

  let loopbackBind = true;
  const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
  const allowedHosts = new Set(opts.allowedHosts ?? []);
  /** A host bound to loopback answers only to loopback names: a DNS-rebinding page gets 403. */
  function checkHost(req: http.IncomingMessage): void {
    if (!loopbackBind) return;
    const host = req.headers.host ?? "";
    const name = host.replace(/:\d+$/, "").toLowerCase();
    if (LOOPBACK.has(name) || allowedHosts.has(host) || allowedHosts.has(name)) return;
    throw new HttpFailure(403, `Host ${host} is not allowed on a loopback listener. Add it to MCP_HTTP_ALLOWED_HOSTS if it is yours.`);
  }

  function checkOrigin(req: http.IncomingMessage): void {
    const origin = req.headers.origin;
    if (!origin) return; // not a browser: nothing to check
    if (allowedOrigins.has(origin) || selfOrigins.includes(origin)) return;
    throw new HttpFailure(403, `Origin ${origin} is not allowed. Add it to MCP_HTTP_ALLOWED_ORIGINS to call the MCP endpoints from that page.`);
  }

  async function handleMcp(req: http.IncomingMessage, res: http.ServerResponse, serverName: string): Promise<void> {
    const mod = served.get(serverName);
    if (!mod) {
      const why = booted.disabled.get(serverName);
      throw new HttpFailure(404, why ? `${serverName} is disabled (${why}).` : `No server is called ${serverName}; servers: ${[...served.keys()].join(", ")}.`);
    }
    checkHost(req);
    checkOrigin(req);
    if (req.method !== "POST") throw new HttpFailure(405, "This endpoint is stateless: send JSON-RPC requests with POST.", { allow: "POST" });
    const auth = req.headers.authorization ?? "";
    const key = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    const challenge = (error: string, description: string) => ({
      "www-authenticate": `Bearer realm="marketsage", error="${error}", error_description="${description.replace(/"/g, "'")}"`,
    });
    if (!key) throw new HttpFailure(401, "Send Authorization: Bearer <MarketSage API key>.", challenge("invalid_request", "missing bearer API key"));
    const invoker = booted.invoker(serverName, key);
    try {
      await invoker.principal();
    } catch (e) {
      if (e instanceof AuthError) throw new HttpFailure(401, e.message, challenge("invalid_token", e.message));
      throw e;
    }
    const raw = await readBody(req, maxBody);
    const text = raw.toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      send(res, { status: 400, body: rpcError(-32700, "Parse error: the body is not JSON.") });
      return;
    }
    // A malformed single message gets the same JSON-RPC error as over stdio, with its id when it has one.
    if (!Array.isArray(body)) {
      const verdict = classifyLine(text);
      if (verdict.kind === "error") {
        send(res, { status: 400, body: { jsonrpc: "2.0", id: verdict.replyId ?? null, error: { code: verdict.code, message: verdict.message } } });
        return;
      }
    }
    const mcp = createMcpServer({ name: `marketsage-${mod.name}`, version: mod.version, instructions: mod.instructions, invoker, resources: mod.resources, prompts: mod.prompts });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    // The same wording as stdio for the SDK's own parse errors (-32602 naming the field, not zod JSON).
    const sendRaw = transport.send.bind(transport);
    transport.send = (message, options) => sendRaw(clarifyErrorResponse(message), options);
    res.on("close", () => void transport.close().then(() => mcp.close()));
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function handleRoute(req: http.IncomingMessage, route: HttpRoute, url: URL): Promise<HttpResponse> {
    const ip = clientIp(req);
    if (route.rateLimitPerMinute) {
      try {
        await limiterFor(route).consume(ip, 1);
      } catch (e) {
        if (e instanceof RateLimiterRes) {
          const s = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
          throw new HttpFailure(429, `Too many requests; retry after ${s} s.`, { "retry-after": String(s) });
        }
        throw e;
      }
    }
    const body = req.method === "GET" ? Buffer.alloc(0) : await readBody(req, route.bodyLimitBytes ?? DEFAULT_BODY_LIMIT);
    const request: HttpRequest = { method: req.method!, path: url.pathname, query: url.searchParams, headers: req.headers, body, ip, url: url.href };
    return route.handle(request, { runtime, log });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const started = performance.now();
    void (async () => {
      try {
        const mcp = /^\/mcp\/([a-z0-9-]+)\/?$/.exec(url.pathname);
        if (mcp) return await handleMcp(req, res, mcp[1]!);
        if (url.pathname === "/healthz") return send(res, { status: 200, body: { status: "ok", servers: [...served.keys()], uptime_s: Math.round(process.uptime()) } });
        if (url.pathname === "/readyz") {
          const r = await readiness();
          return send(res, { status: r.ok ? 200 : 503, body: r.ok ? { status: "ready" } : { status: "not ready", reason: r.reason } });
        }
        const route = routes.find((r) => pathMatches(r.path, url.pathname) && r.method === req.method);
        if (route) return send(res, await handleRoute(req, route, url));
        if (routes.some((r) => pathMatches(r.path, url.pathname))) throw new HttpFailure(405, `${req.method} is not allowed here.`);
        throw new HttpFailure(404, `Nothing at ${url.pathname}. MCP endpoints: ${[...served.keys()].map((s) => `/mcp/${s}`).join(", ")}.`);
      } catch (e) {
        if (e instanceof HttpFailure) {
          const isMcp = url.pathname.startsWith("/mcp/");
          send(res, { status: e.status, headers: e.headers, body: isMcp ? rpcError(-32000, e.message) : { error: e.message } });
        } else {
          log.error({ err: e, path: url.pathname }, "http request failed");
          send(res, { status: 500, body: url.pathname.startsWith("/mcp/") ? rpcError(-32603, "Internal error") : { error: "internal error" } });
        }
      } finally {
        log.debug({ method: req.method, path: url.pathname, status: res.statusCode, ms: performance.now() - started }, "http");
      }
    })();
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeouts

  return {
    server,
    async listen(port, host = "127.0.0.1") {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
      });
      const p = (server.address() as AddressInfo).port;
      loopbackBind = host === "127.0.0.1" || host === "localhost" || host === "::1";
      selfOrigins = [`http://${host}:${p}`, `http://localhost:${p}`, `http://127.0.0.1:${p}`];
      return { port: p, url: `http://${host}:${p}` };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await routePool?.end().catch(() => undefined);
    },
  };
}
