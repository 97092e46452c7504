// Starting the host: every catalog server through the one bootstrap (a disabled server is not
// served; the others are), its routes, then listen. Used by main.ts and by tests in-process.
import { bootstrap, type HttpRoute } from "@marketsage/core";
import { catalogView, CATALOG, loadCatalog, type Catalog } from "@marketsage/catalog";
import { loadHostConfig } from "./config.ts";
import { createHttpHost, type HttpHost } from "./host.ts";

export interface StartedHost {
  host: HttpHost;
  url: string;
  port: number;
  /** What the routes tell the operator at start (e.g. the website snippet's tag). */
  banner: string[];
  close(): Promise<void>;
}

export async function startHttpHost(env: Record<string, string | undefined>, opts: { catalog?: Catalog; extraRoutes?: readonly HttpRoute[] } = {}): Promise<StartedHost> {
  const catalog = opts.catalog ?? CATALOG;
  const hostConfig = loadHostConfig(env);
  const entries = await loadCatalog(catalog);
  const booted = await bootstrap({ name: "http", env, catalog: catalogView(catalog), servers: entries.map((e) => e.pkg.module), disabledIsFatal: false });
  const routes: HttpRoute[] = [...(opts.extraRoutes ?? [])];
  for (const e of entries) if (e.routes && !booted.disabled.has(e.name)) routes.push(...(await e.routes(env)));
  const host = createHttpHost({ booted, routes, allowedOrigins: hostConfig.allowedOrigins, allowedHosts: hostConfig.allowedHosts, maxBodyBytes: hostConfig.maxBodyBytes, trustProxy: hostConfig.trustProxy });
  try {
    const { port, url } = await host.listen(hostConfig.port, hostConfig.host);
    for (const [name, why] of booted.disabled) booted.log.warn({ server: name, why }, "server disabled: not served");
    booted.log.info({ url, servers: booted.servers.map((s) => s.name), routes: routes.map((r) => `${r.method} ${r.path}`) }, "http host listening");
    const banner: string[] = [];
    for (const r of routes) {
      if (!r.banner) continue;
      try {
        banner.push(...(await r.banner(url, { runtime: booted.runtime, log: booted.log })));
      } catch (e) {
        booted.log.warn({ err: e, route: r.path }, "route banner failed");
      }
    }
    // MARKETSAGE_WORKER=1: the servers' background work (bulk sends) runs in this process too, on
    // the runtime's database client (sandbox callbacks then reach this host's routes).
    const workers: Array<{ stop(): Promise<void> }> = [];
    if (/^(1|true|yes|on)$/i.test(env.MARKETSAGE_WORKER ?? "")) {
      for (const e of entries) {
        if (!e.worker || booted.disabled.has(e.name)) continue;
        const start = await e.worker();
        workers.push(await start({ db: booted.runtime.db, databaseUrl: env.DATABASE_URL ?? "", env, log: booted.log.child({ server: e.name }) }));
        banner.push(`Background work of ${e.name} runs in this host (MARKETSAGE_WORKER=1).`);
      }
    }
    return {
      host,
      url,
      port,
      banner,
      async close() {
        for (const w of workers) await w.stop().catch(() => undefined);
        await host.close();
        await booted.close();
      },
    };
  } catch (e) {
    await booted.close();
    throw e;
  }
}
