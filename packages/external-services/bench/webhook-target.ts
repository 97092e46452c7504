// The HTTP host the webhook bench loads, in its own process: the catalog's host, external-services'
// webhook routes included, configured by the environment the bench gives it (Twilio "live" with the
// bench's own account sid and auth token, so the bench can sign the callbacks). Prints its URL on stdout.
import { startHttpHost } from "@marketsage/http";

const started = await startHttpHost(process.env);
process.stdout.write(`${started.url}\n`);
process.on("SIGTERM", () => void started.close().then(() => process.exit(0)));
