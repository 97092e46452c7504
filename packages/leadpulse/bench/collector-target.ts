// The HTTP host the collector bench loads, in its own process: the catalog's host with the
// collector routes (added here while leadpulse is not in the catalog). Prints its URL on stdout.
import { CATALOG } from "@marketsage/catalog";
import { startHttpHost } from "@marketsage/http";
import { collectorRoutes } from "../src/collector/routes.ts";

const served = CATALOG.some((e) => e.name === "leadpulse" && e.routes);
const started = await startHttpHost(process.env, served ? {} : { extraRoutes: collectorRoutes(process.env) });
process.stdout.write(`${started.url}\n`);
process.on("SIGTERM", () => void started.close().then(() => process.exit(0)));
