// Loading catalog entries: each server's package once per process, on first use.
import type { CatalogView } from "@marketsage/core";
import { CATALOG } from "./catalog.ts";
import type { Catalog, CatalogEntry, ServerPackage } from "./types.ts";

export interface LoadedEntry extends CatalogEntry {
  pkg: ServerPackage;
}

const cache = new WeakMap<CatalogEntry, Promise<ServerPackage>>();

export function loadEntry(entry: CatalogEntry): Promise<ServerPackage> {
  let p = cache.get(entry);
  if (!p) {
    p = entry.load().then((pkg) => {
      if (pkg.module.name !== entry.name) throw new Error(`catalog entry ${entry.name} loaded a server module named ${pkg.module.name}`);
      return pkg;
    });
    cache.set(entry, p);
  }
  return p;
}

/** Every entry with its package loaded, in catalog order. */
export async function loadCatalog(catalog: Catalog = CATALOG): Promise<LoadedEntry[]> {
  return Promise.all(catalog.map(async (e) => ({ ...e, pkg: await loadEntry(e) })));
}

/** What the bootstrap needs: names now, tool names only when MCP_TOOLS must be checked. */
export function catalogView(catalog: Catalog = CATALOG): CatalogView {
  return {
    names: catalog.map((e) => e.name),
    async toolNames(servers) {
      const out = new Map<string, string[]>();
      for (const e of catalog.filter((c) => servers.includes(c.name))) out.set(e.name, (await loadEntry(e)).module.tools.map((t) => t.name));
      return out;
    },
  };
}
