export { CATALOG, catalogEntry, defineCatalog, serverNames } from "./catalog.ts";
export type { CatalogEntries } from "./catalog.ts";
export { catalogView, loadCatalog, loadEntry } from "./load.ts";
export type { LoadedEntry } from "./load.ts";
export { camelCase } from "./types.ts";
export type { CamelCase, Catalog, CatalogEntry, EntrySpec, ServerPackage } from "./types.ts";
