export { createHttpHost } from "./host.ts";
export type { HostOptions, HttpHost } from "./host.ts";
export { startHttpHost } from "./start.ts";
export type { StartedHost } from "./start.ts";
export { loadHostConfig } from "./config.ts";
export type { HostConfig } from "./config.ts";
export { DEFAULT_BODY_LIMIT } from "./routes.ts";
export type { HttpRequest, HttpResponse, HttpRoute, RouteContext } from "./routes.ts";
