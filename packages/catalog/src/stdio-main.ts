#!/usr/bin/env node
// The stdio entry of every server: `pnpm build` bundles it once per catalog entry into
// packages/<server>/dist/main.js with the server's name compiled in (MARKETSAGE_SERVER); from
// source, `tsx packages/catalog/src/stdio-main.ts <server>`.
import { EXIT, runStdioServer } from "@marketsage/core";
import { catalogEntry, serverNames } from "./catalog.ts";
import { catalogView, loadEntry } from "./load.ts";

declare const MARKETSAGE_SERVER: string | undefined;
const name = typeof MARKETSAGE_SERVER === "string" ? MARKETSAGE_SERVER : process.argv[2];
const entry = name ? catalogEntry(name) : undefined;
if (!entry) {
  process.stderr.write(`unknown server "${name ?? ""}": one of ${serverNames().join(", ")}\n`);
  process.exit(EXIT.CONFIG);
}
// No top-level await: the build bundles this entry as CommonJS to start it from V8's code cache.
loadEntry(entry)
  .then(async (pkg) => {
    // MARKETSAGE_WORKER=1: the server's background work (external-services: bulk sends) runs in this
    // process too — for a desktop client that starts only stdio servers.
    const worker = /^(1|true|yes|on)$/i.test(process.env.MARKETSAGE_WORKER ?? "") && entry.worker ? await entry.worker() : null;
    await runStdioServer(pkg.module, process.env, catalogView(), {
      ...(worker ? { background: (b) => worker({ db: b.runtime.db, databaseUrl: process.env.DATABASE_URL ?? "", env: process.env, log: b.log }) } : {}),
    });
  })
  .catch((e: unknown) => {
    process.stderr.write(`${entry.name}: could not start: ${(e as Error).message}\n`);
    process.exit(EXIT.FATAL);
  });
