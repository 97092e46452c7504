import { createLogger, createRuntime } from "@marketsage/core";
import { ALL_ON, connectTestClient } from "@marketsage/core/testing";
import { customerDataServer } from "@marketsage/customer-data";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
const url = process.env.DATABASE_URL!;
const runtime = createRuntime({ databaseUrl: url, flags: ALL_ON, rateLimits: { callsPerMinute: 1e7, sendsPerMinute: 60, sendsPerDay: 5000 }, log: createLogger({ level: "error" }) });
const t = await connectTestClient({ server: "customer-data", tools: customerDataServer.tools, runtime, apiKey: demoApiKey(DEMO_ORGS[0]!, "SUPER_ADMIN") });
const calls: Array<[string, Record<string, unknown>]> = JSON.parse(process.argv[2]!);
for (const [name, args] of calls) {
  for (let i = 0; i < 2; i++) {
    const s = performance.now();
    const r = await t.client.callTool({ name, arguments: args });
    console.log(name, JSON.stringify(args).slice(0, 80), Math.round(performance.now() - s), "ms", r.isError ? JSON.stringify(r.content).slice(0, 200) : "");
  }
}
await t.close(); await runtime.close();
