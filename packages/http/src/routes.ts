// Routes on the HTTP host besides /mcp/<server>: health, and what catalog servers add (the
// website collector, provider webhooks). Each route declares its body-size limit and its rate
// limit per client address; the host enforces both before the handler runs.
export type { HttpRequest, HttpResponse, HttpRoute, RouteContext } from "@marketsage/core";

export const DEFAULT_BODY_LIMIT = 64 * 1024;
