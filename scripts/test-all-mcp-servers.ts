// The end-to-end harness: pnpm harness [--database-url URL] [--tour] [--json]
// Spawns every enabled MCP server as a real stdio child process, calls every tool with demo-data
// arguments, runs the cross-server story, proves fallback and flags; exits 1 on any failure.
import { parseArgs } from "node:util";
import { runHarness } from "@marketsage/client/harness";

const { values } = parseArgs({
  options: {
    "database-url": { type: "string" },
    tour: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write("usage: pnpm harness [--database-url URL] [--tour | --json]\n");
  process.exit(0);
}
const report = await runHarness({ databaseUrl: values["database-url"], env: process.env, format: values.json ? "json" : values.tour ? "tour" : "plain" });
process.exitCode = report.ok ? 0 : 1;
