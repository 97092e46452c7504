// The HTTP host the webhook bench loads, in its own process (the catalog's host, external-services'
// routes included). Prints its URL on stdout.
import { startHttpHost } from "@marketsage/http";

const started = await startHttpHost(process.env);
process.stdout.write(`${started.url}\n`);
process.on("SIGTERM", () => void started.close().then(() => process.exit(0)));
